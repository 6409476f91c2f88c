/** io.sluice.replication. */
package io.sluice.replication;
