// Load RDF files with the OWL API (the parser of Protégé) and, with --profile, check them against OWL 2 DL.
//
// Run by tests/test_owl_profile.py and tests/serve/test_interop.py with Java's single-file source launcher and
// Debian's libowlapi-java on the classpath (its own parsers only: no Rio, so Turtle is read by the OWL API's
// parser, which refuses escaped characters in prefixed names). Usage:
//   java -cp <jars> OwlCheck.java [--profile] FILE...
// One line per file: "FILE<TAB>loaded<TAB>AXIOMS" or "FILE<TAB>unparsable<TAB>FIRST LINE OF THE ERROR"; with
// --profile, then one line per violation: "FILE<TAB>violation<TAB>KIND<TAB>DESCRIPTION". Exit 1 if a file did not
// load or had a violation. Imports are never fetched: every IRI maps to a file that does not exist, and missing
// imports are ignored silently (the network is not ours to touch).
import java.io.File;
import java.util.List;
import org.semanticweb.owlapi.apibinding.OWLManager;
import org.semanticweb.owlapi.formats.RDFXMLDocumentFormat;
import org.semanticweb.owlapi.formats.TurtleDocumentFormat;
import org.semanticweb.owlapi.io.FileDocumentSource;
import org.semanticweb.owlapi.model.IRI;
import org.semanticweb.owlapi.model.MissingImportHandlingStrategy;
import org.semanticweb.owlapi.model.OWLDocumentFormat;
import org.semanticweb.owlapi.model.OWLOntology;
import org.semanticweb.owlapi.model.OWLOntologyLoaderConfiguration;
import org.semanticweb.owlapi.model.OWLOntologyManager;
import org.semanticweb.owlapi.profiles.OWL2DLProfile;
import org.semanticweb.owlapi.profiles.OWLProfileReport;
import org.semanticweb.owlapi.profiles.OWLProfileViolation;

public class OwlCheck {
    static OWLDocumentFormat formatOf(String name) {
        // N-Triples is Turtle; the N-Triples parser of the OWL API needs Rio
        if (name.endsWith(".ttl") || name.endsWith(".nt")) return new TurtleDocumentFormat();
        return new RDFXMLDocumentFormat();
    }

    public static void main(String[] args) throws Exception {
        boolean profile = false;
        boolean failed = false;
        File nowhere = new File(System.getProperty("java.io.tmpdir"), "owlcheck-no-such-import.owl");
        for (String arg : args) {
            if (arg.equals("--profile")) {
                profile = true;
                continue;
            }
            OWLOntologyManager manager = OWLManager.createOWLOntologyManager();
            manager.getIRIMappers().clear();
            manager.getIRIMappers().add(iri -> IRI.create(nowhere));
            OWLOntologyLoaderConfiguration config = new OWLOntologyLoaderConfiguration()
                .setMissingImportHandlingStrategy(MissingImportHandlingStrategy.SILENT)
                .setFollowRedirects(false);
            OWLOntology ontology;
            try {
                FileDocumentSource source = new FileDocumentSource(new File(arg), formatOf(arg));
                ontology = manager.loadOntologyFromOntologyDocument(source, config);
            } catch (Exception e) {
                String message = String.valueOf(e.getMessage()).strip().split("\n")[0];
                System.out.println(arg + "\tunparsable\t" + message);
                failed = true;
                continue;
            }
            System.out.println(arg + "\tloaded\t" + ontology.getAxiomCount());
            if (profile) {
                OWLProfileReport report = new OWL2DLProfile().checkOntology(ontology);
                List<OWLProfileViolation> violations = report.getViolations();
                for (OWLProfileViolation v : violations) {
                    String text = v.toString().replace('\n', ' ').replace('\t', ' ');
                    System.out.println(arg + "\tviolation\t" + v.getClass().getSimpleName() + "\t" + text);
                    failed = true;
                }
            }
        }
        System.exit(failed ? 1 : 0);
    }
}
