// bench/peer/PeerTopics.java - the peer's topics (the benchmark's broker does
// not create topics by itself).  A single-file program, run with the peer's jars:
//
//   java -cp '<peer libs>/*' bench/peer/PeerTopics.java BOOTSTRAP create|delete TOPIC...
//
// create: delete each TOPIC that exists, wait until it is gone, then create it
// with 1 partition and replication factor 1 (one partition per commune, as the
// sink's topics).  delete: delete each TOPIC that exists.
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.errors.TopicExistsException;

public class PeerTopics {
    public static void main(String[] args) throws Exception {
        if (args.length < 3 || !Arrays.asList("create", "delete").contains(args[1])) {
            System.err.println("usage: PeerTopics BOOTSTRAP create|delete TOPIC...");
            System.exit(2);
        }
        List<String> topics = Arrays.asList(args).subList(2, args.length);
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, args[0]);
        long deadline = System.currentTimeMillis() + 60_000;
        try (Admin admin = Admin.create(p)) {
            List<String> old = new ArrayList<>(admin.listTopics().names().get());
            old.retainAll(topics);
            if (!old.isEmpty()) {
                admin.deleteTopics(old).all().get();
                while (!Collections.disjoint(admin.listTopics().names().get(), old)) {
                    if (System.currentTimeMillis() > deadline) throw new IllegalStateException("topics not deleted: " + old);
                    Thread.sleep(200);
                }
            }
            System.out.println("deleted " + old.size() + " topic(s)");
            if (args[1].equals("delete")) return;
            for (;;) { // a deleted topic can be "marked for deletion" a moment longer
                Set<String> have = admin.listTopics().names().get();
                List<NewTopic> missing = new ArrayList<>();
                for (String t : topics) if (!have.contains(t)) missing.add(new NewTopic(t, 1, (short) 1));
                if (missing.isEmpty()) break;
                try {
                    admin.createTopics(missing).all().get();
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof TopicExistsException) || System.currentTimeMillis() > deadline) throw e;
                    Thread.sleep(500);
                }
            }
            System.out.println("created " + topics.size() + " topic(s)");
        }
    }
}
