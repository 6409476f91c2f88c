package io.sluice.client;

/**
 * Configures a {@link Consumer}. Values are validated by {@link #create()}. Not thread-safe: configure from one
 * thread.
 */
public interface ConsumerBuilder {
    /**
     * Fetch responses each partition's stream may deliver ahead of {@code poll}. Client memory per partition is
     * bounded by {@code credits × maxBytesPerResponse}. Default 4.
     */
    ConsumerBuilder credits(int credits);

    /** Upper bound on record bytes in one fetch response (one larger batch is still delivered). Default 1 MiB. */
    ConsumerBuilder maxBytesPerResponse(int bytes);

    /** Records returned by one {@code poll} at most. Default 500. */
    ConsumerBuilder maxPollRecords(int records);

    /** What to do when the position is out of the readable range. Default {@link OffsetReset#NONE}. */
    ConsumerBuilder offsetReset(OffsetReset policy);

    /** Builds the consumer, with nothing assigned. */
    Consumer create();

    /** What a consumer does when its position is out of the partition's readable range. */
    enum OffsetReset {
        /** Fail {@code poll} with {@link OffsetOutOfRangeException}. */
        NONE,
        /** Jump to the log start offset. */
        EARLIEST,
        /** Jump to the high watermark. */
        LATEST
    }
}
