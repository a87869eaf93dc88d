/**
 * Which __consumer_offsets partition holds a group: Kafka's `Utils.abs(groupId.hashCode()) %
 * offsets.topic.num.partitions`, with Java's String.hashCode over UTF-16 code units, so a group
 * lands on the same partition number as it would on Apache Kafka (tools that read the topic
 * directly, and data moved between the two, agree).
 */

/** Java's `String.hashCode()`: s[0]*31^(n-1) + ... + s[n-1], in 32-bit two's complement. */
export function javaStringHashCode(text: string): number {
  let hash = 0;
  for (let i = 0; i < text.length; i++) {
    hash = (Math.imul(hash, 31) + text.charCodeAt(i)) | 0;
  }
  return hash;
}

/**
 * Kafka's `Utils.abs`: the absolute value, with Integer.MIN_VALUE mapped to 0 instead of
 * overflowing. Not `Utils.toPositive` (`n & 0x7fffffff`, the partitioners'): for a negative hash
 * the two differ (-1 gives 1, not 2147483647), and Krill used the latter until the three-node
 * compat scenario found groups and transactional ids placed on other partitions than Kafka places
 * them (docs/groups.md, "Placement").
 */
export function kafkaAbs(n: number): number {
  return n === -2147483648 ? 0 : Math.abs(n);
}

/** The __consumer_offsets (or __transaction_state) partition for a key. */
export function coordinatorPartitionFor(key: string, partitionCount: number): number {
  if (!Number.isInteger(partitionCount) || partitionCount < 1) {
    throw new Error(`assertion: partition count ${partitionCount} must be a positive integer`);
  }
  return kafkaAbs(javaStringHashCode(key)) % partitionCount;
}
