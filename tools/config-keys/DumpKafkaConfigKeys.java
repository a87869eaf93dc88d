// Prints Apache Kafka's broker configuration keys as JSON, read from Kafka's own ConfigDef
// (kafka.server.KafkaConfig.configDef(), the definition the broker validates server.properties
// with). Run by tools/config-keys/generate.ts with the jars of one Kafka version on the classpath:
//
//   java -cp "$(cat compat-tests/.cache/kafka-4.4.0.classpath)" tools/config-keys/DumpKafkaConfigKeys.java
//
// One JSON object: {"keys": [{"name", "type", "default", "importance"}, ...]},
// keys sorted by name; "default" is Kafka's string form of the default, or null when there is none.
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.common.config.ConfigDef;

public class DumpKafkaConfigKeys {
    public static void main(String[] args) throws Exception {
        ConfigDef def = (ConfigDef) Class.forName("kafka.server.KafkaConfig").getMethod("configDef").invoke(null);
        Map<String, ConfigDef.ConfigKey> keys = new TreeMap<>(def.configKeys());
        List<String> rows = new ArrayList<>();
        for (ConfigDef.ConfigKey key : keys.values()) {
            String defaultText = key.hasDefault() ? ConfigDef.convertToString(key.defaultValue, key.type) : null;
            rows.add("{\"name\":" + quote(key.name) + ",\"type\":" + quote(key.type.name())
                + ",\"default\":" + (defaultText == null ? "null" : quote(defaultText))
                + ",\"importance\":" + quote(key.importance.name()) + "}");
        }
        System.out.println("{\"keys\":[\n"
            + String.join(",\n", rows) + "\n]}");
    }

    private static String quote(String s) {
        StringBuilder out = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') out.append('\\').append(c);
            else if (c < 0x20) out.append(String.format("\\u%04x", (int) c));
            else out.append(c);
        }
        return out.append('"').toString();
    }
}
