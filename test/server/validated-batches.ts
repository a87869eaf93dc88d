// Test helper: the validation summaries the produce path makes of a produced record batch, with
// every bound but the message size open (tests that check the bounds call the validator directly).
import { validateProducedBatches } from "../../src/protocol/records/produce-validation.js";

export function validatedBatches(records: Buffer, nowMs: number) {
  const v = validateProducedBatches(records, {
    maxMessageBytes: 1 << 20,
    timestampType: "CreateTime",
    timestampBeforeMaxMs: Number.POSITIVE_INFINITY,
    timestampAfterMaxMs: Number.POSITIVE_INFINITY,
    nowMs,
  });
  if (!v.ok) throw new Error(v.errorMessage);
  return v.batches;
}
