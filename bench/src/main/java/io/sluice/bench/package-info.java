/** JMH benchmarks of Sluice's storage engine; results are recorded in docs/benchmarks.md. */
package io.sluice.bench;
