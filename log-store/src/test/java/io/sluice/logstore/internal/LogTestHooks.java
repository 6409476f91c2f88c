package io.sluice.logstore.internal;

import io.sluice.logstore.Log;

/** Test access to internals of the log: simulated crashes. */
public final class LogTestHooks {
    private LogTestHooks() {}

    /**
     * Drops the log as a crash would: no flush, no index trimming, no clean-shutdown marker. (The page
     * cache still holds what was written; tests damage files themselves to simulate lost writes.)
     */
    public static void crash(Log log) {
        ((SegmentedLog) log).crashForTesting();
    }
}
