/** io.sluice.client. */
package io.sluice.client;
