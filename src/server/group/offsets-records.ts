/**
 * The records of __consumer_offsets, in Kafka's format so a Kafka broker could read Krill's topic
 * and the reverse: the key starts with an int16 record type (the key schema's version), the value
 * with an int16 value version; a null value is a tombstone. Types 0 and 1 are committed offsets
 * (Krill writes 1), type 2 is classic group metadata (value version 3, as Kafka writes), types
 * 3 and 5-8 are KIP-848 consumer group records (value version 0; type 4, the subscribed topics'
 * metadata, is not written: Krill reads topics from the metadata image), and higher types belong
 * to share groups (skipped on load).
 */
import { KrillError } from "../../errors.js";
import {
  decodeConsumerGroupCurrentMemberAssignmentKey,
  encodeConsumerGroupCurrentMemberAssignmentKey,
} from "../../protocol/generated/consumer-group-current-member-assignment-key.js";
import {
  type ConsumerGroupCurrentMemberAssignmentValue,
  decodeConsumerGroupCurrentMemberAssignmentValue,
  encodeConsumerGroupCurrentMemberAssignmentValue,
} from "../../protocol/generated/consumer-group-current-member-assignment-value.js";
import {
  decodeConsumerGroupMemberMetadataKey,
  encodeConsumerGroupMemberMetadataKey,
} from "../../protocol/generated/consumer-group-member-metadata-key.js";
import {
  type ConsumerGroupMemberMetadataValue,
  decodeConsumerGroupMemberMetadataValue,
  encodeConsumerGroupMemberMetadataValue,
} from "../../protocol/generated/consumer-group-member-metadata-value.js";
import {
  decodeConsumerGroupMetadataKey,
  encodeConsumerGroupMetadataKey,
} from "../../protocol/generated/consumer-group-metadata-key.js";
import {
  type ConsumerGroupMetadataValue,
  decodeConsumerGroupMetadataValue,
  encodeConsumerGroupMetadataValue,
} from "../../protocol/generated/consumer-group-metadata-value.js";
import {
  decodeConsumerGroupTargetAssignmentMemberKey,
  encodeConsumerGroupTargetAssignmentMemberKey,
} from "../../protocol/generated/consumer-group-target-assignment-member-key.js";
import {
  type ConsumerGroupTargetAssignmentMemberValue,
  decodeConsumerGroupTargetAssignmentMemberValue,
  encodeConsumerGroupTargetAssignmentMemberValue,
} from "../../protocol/generated/consumer-group-target-assignment-member-value.js";
import {
  decodeConsumerGroupTargetAssignmentMetadataKey,
  encodeConsumerGroupTargetAssignmentMetadataKey,
} from "../../protocol/generated/consumer-group-target-assignment-metadata-key.js";
import {
  type ConsumerGroupTargetAssignmentMetadataValue,
  decodeConsumerGroupTargetAssignmentMetadataValue,
  encodeConsumerGroupTargetAssignmentMetadataValue,
} from "../../protocol/generated/consumer-group-target-assignment-metadata-value.js";
import {
  decodeGroupMetadataKey,
  encodeGroupMetadataKey,
} from "../../protocol/generated/group-metadata-key.js";
import {
  decodeGroupMetadataValue,
  encodeGroupMetadataValue,
  type GroupMetadataValue,
} from "../../protocol/generated/group-metadata-value.js";
import { decodeOffsetCommitKey, encodeOffsetCommitKey } from "../../protocol/generated/offset-commit-key.js";
import {
  decodeOffsetCommitValue,
  encodeOffsetCommitValue,
  type OffsetCommitValue,
} from "../../protocol/generated/offset-commit-value.js";
import { Reader } from "../../protocol/primitives/reader.js";
import { Writer } from "../../protocol/primitives/writer.js";

/** One record of the topic, key and value as stored. */
export interface CoordinatorRecord {
  readonly key: Buffer;
  /** null: a tombstone, removing the key on load and on compaction. */
  readonly value: Buffer | null;
}

/**
 * A key is the int16 record type followed by the key's fields. Kafka 4.x's specs give the type as
 * the key's apiKey and version every key at 0 (type 0, the legacy offset commit, has the same
 * fields as type 1).
 */
const KEY_VERSION = 0;
export const OFFSET_COMMIT_RECORD_TYPE = 1;
export const GROUP_METADATA_RECORD_TYPE = 2;
/** KIP-848 record types (value version 0 for all, as Kafka writes them). */
export const CONSUMER_GROUP_METADATA_RECORD_TYPE = 3;
export const CONSUMER_GROUP_MEMBER_METADATA_RECORD_TYPE = 5;
export const CONSUMER_GROUP_TARGET_ASSIGNMENT_METADATA_RECORD_TYPE = 6;
export const CONSUMER_GROUP_TARGET_ASSIGNMENT_MEMBER_RECORD_TYPE = 7;
export const CONSUMER_GROUP_CURRENT_MEMBER_ASSIGNMENT_RECORD_TYPE = 8;
/** OffsetCommitValue v3 carries the leader epoch; v1 is only for an explicit expire timestamp. */
export const OFFSET_COMMIT_VALUE_VERSION = 3;
export const OFFSET_COMMIT_VALUE_VERSION_WITH_EXPIRY = 1;
export const GROUP_METADATA_VALUE_VERSION = 3;

export type DecodedGroupRecord =
  | {
      readonly type: "OffsetCommit";
      readonly group: string;
      readonly topic: string;
      readonly partition: number;
      readonly value: OffsetCommitValue | null;
    }
  | { readonly type: "GroupMetadata"; readonly group: string; readonly value: GroupMetadataValue | null }
  | {
      readonly type: "ConsumerGroupMetadata";
      readonly group: string;
      readonly value: ConsumerGroupMetadataValue | null;
    }
  | {
      readonly type: "ConsumerGroupMemberMetadata";
      readonly group: string;
      readonly memberId: string;
      readonly value: ConsumerGroupMemberMetadataValue | null;
    }
  | {
      readonly type: "ConsumerGroupTargetAssignmentMetadata";
      readonly group: string;
      readonly value: ConsumerGroupTargetAssignmentMetadataValue | null;
    }
  | {
      readonly type: "ConsumerGroupTargetAssignmentMember";
      readonly group: string;
      readonly memberId: string;
      readonly value: ConsumerGroupTargetAssignmentMemberValue | null;
    }
  | {
      readonly type: "ConsumerGroupCurrentMemberAssignment";
      readonly group: string;
      readonly memberId: string;
      readonly value: ConsumerGroupCurrentMemberAssignmentValue | null;
    }
  | { readonly type: "Skipped"; readonly recordType: number };

function withVersion(version: number, encode: (w: Writer) => void): Buffer {
  const w = new Writer(64);
  w.writeInt16(version);
  encode(w);
  return w.finish();
}

export function offsetCommitRecord(
  group: string,
  topic: string,
  partition: number,
  value: OffsetCommitValue | null,
): CoordinatorRecord {
  const key = withVersion(OFFSET_COMMIT_RECORD_TYPE, (w) =>
    encodeOffsetCommitKey(w, { group, topic, partition }, KEY_VERSION),
  );
  if (value === null) return { key, value: null };
  const version =
    value.expireTimestamp >= 0n ? OFFSET_COMMIT_VALUE_VERSION_WITH_EXPIRY : OFFSET_COMMIT_VALUE_VERSION;
  return { key, value: withVersion(version, (w) => encodeOffsetCommitValue(w, value, version)) };
}

export function groupMetadataRecord(group: string, value: GroupMetadataValue | null): CoordinatorRecord {
  const key = withVersion(GROUP_METADATA_RECORD_TYPE, (w) =>
    encodeGroupMetadataKey(w, { group }, KEY_VERSION),
  );
  if (value === null) return { key, value: null };
  return {
    key,
    value: withVersion(GROUP_METADATA_VALUE_VERSION, (w) =>
      encodeGroupMetadataValue(w, value, GROUP_METADATA_VALUE_VERSION),
    ),
  };
}

function consumerRecord<V>(
  type: number,
  encodeKey: (w: Writer) => void,
  value: V | null,
  encodeValue: (w: Writer, v: V, version: number) => void,
): CoordinatorRecord {
  const key = withVersion(type, encodeKey);
  if (value === null) return { key, value: null };
  return { key, value: withVersion(0, (w) => encodeValue(w, value, 0)) };
}

export function consumerGroupMetadataRecord(
  groupId: string,
  value: ConsumerGroupMetadataValue | null,
): CoordinatorRecord {
  const type = CONSUMER_GROUP_METADATA_RECORD_TYPE;
  return consumerRecord(
    type,
    (w) => encodeConsumerGroupMetadataKey(w, { groupId }, KEY_VERSION),
    value,
    encodeConsumerGroupMetadataValue,
  );
}

export function consumerGroupMemberMetadataRecord(
  groupId: string,
  memberId: string,
  value: ConsumerGroupMemberMetadataValue | null,
): CoordinatorRecord {
  const type = CONSUMER_GROUP_MEMBER_METADATA_RECORD_TYPE;
  return consumerRecord(
    type,
    (w) => encodeConsumerGroupMemberMetadataKey(w, { groupId, memberId }, KEY_VERSION),
    value,
    encodeConsumerGroupMemberMetadataValue,
  );
}

export function consumerGroupTargetAssignmentMetadataRecord(
  groupId: string,
  value: ConsumerGroupTargetAssignmentMetadataValue | null,
): CoordinatorRecord {
  const type = CONSUMER_GROUP_TARGET_ASSIGNMENT_METADATA_RECORD_TYPE;
  return consumerRecord(
    type,
    (w) => encodeConsumerGroupTargetAssignmentMetadataKey(w, { groupId }, KEY_VERSION),
    value,
    encodeConsumerGroupTargetAssignmentMetadataValue,
  );
}

export function consumerGroupTargetAssignmentMemberRecord(
  groupId: string,
  memberId: string,
  value: ConsumerGroupTargetAssignmentMemberValue | null,
): CoordinatorRecord {
  const type = CONSUMER_GROUP_TARGET_ASSIGNMENT_MEMBER_RECORD_TYPE;
  return consumerRecord(
    type,
    (w) => encodeConsumerGroupTargetAssignmentMemberKey(w, { groupId, memberId }, KEY_VERSION),
    value,
    encodeConsumerGroupTargetAssignmentMemberValue,
  );
}

export function consumerGroupCurrentMemberAssignmentRecord(
  groupId: string,
  memberId: string,
  value: ConsumerGroupCurrentMemberAssignmentValue | null,
): CoordinatorRecord {
  const type = CONSUMER_GROUP_CURRENT_MEMBER_ASSIGNMENT_RECORD_TYPE;
  return consumerRecord(
    type,
    (w) => encodeConsumerGroupCurrentMemberAssignmentKey(w, { groupId, memberId }, KEY_VERSION),
    value,
    encodeConsumerGroupCurrentMemberAssignmentValue,
  );
}

/**
 * Decodes a stored record. A record that does not decode, or carries a value version newer than
 * the schema knows, throws `KrillError("CORRUPT_RECORD")` naming the record type.
 */
export function decodeGroupRecord(record: CoordinatorRecord): DecodedGroupRecord {
  try {
    const keyReader = new Reader(record.key);
    const recordType = keyReader.readInt16("record type");
    if (recordType === 0 || recordType === 1) {
      const key = decodeOffsetCommitKey(keyReader, KEY_VERSION);
      keyReader.expectEnd("offset commit key");
      const value = record.value === null ? null : decodeValue(record.value, 4, decodeOffsetCommitValue);
      return { type: "OffsetCommit", group: key.group, topic: key.topic, partition: key.partition, value };
    }
    if (recordType === GROUP_METADATA_RECORD_TYPE) {
      const key = decodeGroupMetadataKey(keyReader, KEY_VERSION);
      keyReader.expectEnd("group metadata key");
      const value = record.value === null ? null : decodeValue(record.value, 4, decodeGroupMetadataValue);
      return { type: "GroupMetadata", group: key.group, value };
    }
    const value = <V>(decode: (r: Reader, version: number) => V): V | null =>
      record.value === null ? null : decodeValue(record.value, 0, decode);
    switch (recordType) {
      case CONSUMER_GROUP_METADATA_RECORD_TYPE: {
        const key = decodeConsumerGroupMetadataKey(keyReader, KEY_VERSION);
        return {
          type: "ConsumerGroupMetadata",
          group: key.groupId,
          value: value(decodeConsumerGroupMetadataValue),
        };
      }
      case CONSUMER_GROUP_MEMBER_METADATA_RECORD_TYPE: {
        const key = decodeConsumerGroupMemberMetadataKey(keyReader, KEY_VERSION);
        return {
          type: "ConsumerGroupMemberMetadata",
          group: key.groupId,
          memberId: key.memberId,
          value: value(decodeConsumerGroupMemberMetadataValue),
        };
      }
      case CONSUMER_GROUP_TARGET_ASSIGNMENT_METADATA_RECORD_TYPE: {
        const key = decodeConsumerGroupTargetAssignmentMetadataKey(keyReader, KEY_VERSION);
        return {
          type: "ConsumerGroupTargetAssignmentMetadata",
          group: key.groupId,
          value: value(decodeConsumerGroupTargetAssignmentMetadataValue),
        };
      }
      case CONSUMER_GROUP_TARGET_ASSIGNMENT_MEMBER_RECORD_TYPE: {
        const key = decodeConsumerGroupTargetAssignmentMemberKey(keyReader, KEY_VERSION);
        return {
          type: "ConsumerGroupTargetAssignmentMember",
          group: key.groupId,
          memberId: key.memberId,
          value: value(decodeConsumerGroupTargetAssignmentMemberValue),
        };
      }
      case CONSUMER_GROUP_CURRENT_MEMBER_ASSIGNMENT_RECORD_TYPE: {
        const key = decodeConsumerGroupCurrentMemberAssignmentKey(keyReader, KEY_VERSION);
        return {
          type: "ConsumerGroupCurrentMemberAssignment",
          group: key.groupId,
          memberId: key.memberId,
          value: value(decodeConsumerGroupCurrentMemberAssignmentValue),
        };
      }
    }
    if (recordType < 0) throw new KrillError("CORRUPT_RECORD", `negative record type ${recordType}`);
    return { type: "Skipped", recordType };
  } catch (err) {
    if (err instanceof KrillError && err.code === "CORRUPT_RECORD") throw err;
    throw new KrillError("CORRUPT_RECORD", "a __consumer_offsets record does not decode", { cause: err });
  }
}

function decodeValue<T>(bytes: Buffer, maxVersion: number, decode: (r: Reader, version: number) => T): T {
  const r = new Reader(bytes);
  const version = r.readInt16("value version");
  if (version < 0 || version > maxVersion) {
    throw new KrillError("CORRUPT_RECORD", `value version ${version} is outside 0-${maxVersion}`);
  }
  // Newer writers may append fields in non-flexible versions; Kafka ignores trailing bytes too.
  return decode(r, version);
}
