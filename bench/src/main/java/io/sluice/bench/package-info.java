/** io.sluice.bench. */
package io.sluice.bench;
