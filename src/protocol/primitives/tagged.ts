/**
 * A tagged field this code does not know (a newer peer's addition): kept as its raw bytes so a
 * decoded struct can be re-encoded without losing it, as Kafka's `RawTaggedField` does.
 */
export interface RawTaggedField {
  tag: number;
  data: Buffer;
}
