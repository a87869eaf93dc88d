/**
 * Where an admin write runs, decided by the listener its request came on, as Kafka splits
 * KafkaApis (broker listeners) from ControllerApis (controller listeners):
 *
 * - On a broker listener, through the broker's controller channel (`ctx.broker.controller`): the
 *   in-process controller on a node whose controller is active, else a channel that sends the
 *   write to the active controller's controller listener (remote-controller-channel.ts), as
 *   Kafka's brokers forward CreateTopics and the other admin writes.
 * - On a controller listener, on this node's controller when it is the active one, else the
 *   request is answered NOT_CONTROLLER, as Kafka's QuorumController answers when it is not
 *   active (the sender, a broker's forwarding channel or an admin client using
 *   `--bootstrap-controller`, looks for the active controller and retries).
 *
 * A write is therefore forwarded at most once: the controller listener never forwards.
 * A proposal that fails because leadership moved while it waited (the metadata log rejects it
 * with NOT_CONTROLLER, `isNotControllerError`) is answered NOT_CONTROLLER too.
 */
import { type ControllerChannel, isNotControllerError } from "../metadata/controller-channel.js";
import type { RequestContext } from "./registry.js";

/** Kafka's NotControllerException message (Errors.NOT_CONTROLLER). */
export const NOT_CONTROLLER_MESSAGE = "This is not the correct controller for this cluster.";

/** Whether the request arrived on one of `controller.listener.names`. */
export function isControllerListener(ctx: RequestContext): boolean {
  return ctx.broker.config.controllerListenerNames.has(ctx.connection.listenerName);
}

/**
 * Runs `write` on the controller that serves this request (see the module comment); when that is
 * no controller, or the controller stopped being active during the write, returns
 * `notController(message)` instead: the request's NOT_CONTROLLER answer.
 */
export async function runOnController<T>(
  ctx: RequestContext,
  write: (controller: ControllerChannel) => Promise<T>,
  notController: (message: string) => T,
): Promise<T> {
  const controller = isControllerListener(ctx) ? ctx.broker.activeController() : ctx.broker.controller;
  if (controller === null) return notController(NOT_CONTROLLER_MESSAGE);
  try {
    return await write(controller);
  } catch (err) {
    if (isNotControllerError(err)) return notController((err as Error).message);
    throw err;
  }
}
