/** io.sluice.broker. */
package io.sluice.broker;
