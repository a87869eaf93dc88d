// Differential check of Krill's generated codecs against Apache Kafka's own generated message
// classes. Reads lines "<id> <MessageName> <version> <hex>" on stdin, decodes each frame with
// Kafka's class for that message, re-encodes it at the same version, and prints one line per
// input: "<id> OK <hex> <bytesLeftAfterRead>", "<id> ERR <message>", "<id> NOCLASS" or
// "<id> UNSUPPORTED". With the argument "errors" it lists Kafka's error codes instead. Driven by
// test/protocol/generated/java-crosscheck.test.ts.
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;

import org.apache.kafka.common.errors.UnsupportedVersionException;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.Message;
import org.apache.kafka.common.protocol.ObjectSerializationCache;
import org.apache.kafka.common.protocol.Readable;

public final class KafkaCrossCheck {
    private static final String[] PACKAGES = {
        "org.apache.kafka.common.message.",
        "org.apache.kafka.common.metadata.",
        "org.apache.kafka.raft.generated.",
        "org.apache.kafka.coordinator.group.generated.",
        "org.apache.kafka.coordinator.transaction.generated.",
        "org.apache.kafka.coordinator.share.generated.",
        "org.apache.kafka.server.log.remote.metadata.storage.generated.",
    };
    private static final Map<String, Constructor<?>> CACHE = new HashMap<>();

    private static Constructor<?> find(String name) {
        if (CACHE.containsKey(name)) return CACHE.get(name);
        Constructor<?> found = null;
        for (String pkg : PACKAGES) {
            for (String suffix : new String[] {"Data", ""}) {
                try {
                    Class<?> c = Class.forName(pkg + name + suffix);
                    if (Message.class.isAssignableFrom(c)) {
                        found = c.getConstructor(Readable.class, short.class);
                        break;
                    }
                } catch (ClassNotFoundException | NoSuchMethodException e) {
                    // try the next package
                }
            }
            if (found != null) break;
        }
        CACHE.put(name, found);
        return found;
    }

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("errors")) {
            // "<code> <NAME> <retriable>" for every error code this Kafka defines.
            for (org.apache.kafka.common.protocol.Errors e : org.apache.kafka.common.protocol.Errors.values()) {
                boolean retriable = e.exception() instanceof org.apache.kafka.common.errors.RetriableException;
                System.out.println(e.code() + " " + e.name() + " " + retriable);
            }
            return;
        }
        HexFormat hex = HexFormat.of();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        StringBuilder out = new StringBuilder();
        String line;
        while ((line = in.readLine()) != null) {
            String[] parts = line.split(" ", -1);
            String id = parts[0];
            Constructor<?> ctor = find(parts[1]);
            if (ctor == null) {
                out.append(id).append(" NOCLASS\n");
                continue;
            }
            short version = Short.parseShort(parts[2]);
            Message empty = (Message) ctor.getDeclaringClass().getConstructor().newInstance();
            if (version < empty.lowestSupportedVersion() || version > empty.highestSupportedVersion()) {
                out.append(id).append(" UNSUPPORTED\n");
                continue;
            }
            ByteBuffer buf = ByteBuffer.wrap(hex.parseHex(parts[3]));
            try {
                Message m = (Message) ctor.newInstance(new ByteBufferAccessor(buf), version);
                ObjectSerializationCache cache = new ObjectSerializationCache();
                ByteBuffer written = ByteBuffer.allocate(m.size(cache, version));
                m.write(new ByteBufferAccessor(written), cache, version);
                byte[] bytes = written.array();
                out.append(id).append(" OK ").append(hex.formatHex(bytes)).append(' ').append(buf.remaining()).append('\n');
            } catch (InvocationTargetException e) {
                Throwable cause = e.getCause();
                if (cause instanceof UnsupportedVersionException) out.append(id).append(" UNSUPPORTED\n");
                else out.append(id).append(" ERR ").append(String.valueOf(cause).replace('\n', ' ')).append('\n');
            } catch (UnsupportedVersionException e) {
                out.append(id).append(" UNSUPPORTED\n");
            } catch (RuntimeException e) {
                out.append(id).append(" ERR ").append(String.valueOf(e).replace('\n', ' ')).append('\n');
            }
        }
        System.out.print(out);
    }
}
