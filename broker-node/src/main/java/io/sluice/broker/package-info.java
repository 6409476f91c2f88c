/**
 * The Sluice broker: {@link io.sluice.broker.SluiceBroker} (the process and its main), {@link
 * io.sluice.broker.BrokerConfig} (every configuration key, documented in docs/config.md by {@link
 * io.sluice.broker.ConfigDoc}) and {@link io.sluice.broker.BrokerServer} (the client gRPC server). The gRPC services
 * live in {@code io.sluice.broker.internal}.
 */
package io.sluice.broker;
