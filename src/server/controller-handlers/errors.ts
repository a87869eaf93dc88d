/**
 * The wire error for a controller call that failed as a whole: an error carrying a Kafka error
 * code (NOT_CONTROLLER when this node is not, or stopped being, the active controller) keeps it;
 * anything else is logged and answered UNKNOWN_SERVER_ERROR.
 */
import type { Logger } from "pino";
import { ErrorCode } from "../../protocol/generated/error-codes.js";

export function controllerErrorCode(err: unknown, logger: Logger): number {
  const code = (err as { errorCode?: unknown } | null)?.errorCode;
  if (typeof code === "number") return code;
  logger.error({ err }, "controller request failed");
  return ErrorCode.UNKNOWN_SERVER_ERROR;
}
