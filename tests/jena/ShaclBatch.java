// Validate many data files against one shapes graph in one JVM (Jena's SHACL engine), for tests/test_engines.py.
// Run with the single-file source launcher: java -cp <jena classpath> ShaclBatch.java SHAPES... -- DATA OUT ...
// Each OUT receives the sh:ValidationReport of its DATA as N-Triples.
import java.io.FileOutputStream;
import java.util.Arrays;
import org.apache.jena.graph.Graph;
import org.apache.jena.riot.Lang;
import org.apache.jena.riot.RDFDataMgr;
import org.apache.jena.shacl.ShaclValidator;
import org.apache.jena.shacl.Shapes;
import org.apache.jena.shacl.ValidationReport;
import org.apache.jena.sparql.graph.GraphFactory;

public class ShaclBatch {
    public static void main(String[] args) throws Exception {
        int split = Arrays.asList(args).indexOf("--");
        Graph shapesGraph = GraphFactory.createDefaultGraph();
        for (int i = 0; i < split; i++) {
            RDFDataMgr.read(shapesGraph, args[i]);
        }
        Shapes shapes = Shapes.parse(shapesGraph);
        for (int i = split + 1; i + 1 < args.length; i += 2) {
            Graph data = RDFDataMgr.loadGraph(args[i]);
            ValidationReport report = ShaclValidator.get().validate(shapes, data);
            try (FileOutputStream out = new FileOutputStream(args[i + 1])) {
                RDFDataMgr.write(out, report.getModel(), Lang.NTRIPLES);
            }
        }
    }
}
