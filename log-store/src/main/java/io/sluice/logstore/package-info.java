/** The partition log engine: segments, indexes, recovery, retention and compaction. */
package io.sluice.logstore;
