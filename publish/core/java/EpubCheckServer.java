// EPUBCheck kept running: one Java process checks EPUB after EPUB, where launching EPUBCheck for
// each file would pay the JVM's start and warm-up every time (9 s a file, against well under
// one once warm).
//
// Each request is a line on standard input, "<epub>\t<report>": the EPUB is checked by
// EPUBCheck's own command-line logic (EpubChecker.run, exactly what `java -jar epubcheck.jar
// <epub> --json <report>` runs), which writes its JSON report to <report>. The answer is a
// line on standard output: the exit status EPUBCheck would have had, or "error <message>".
// What EPUBCheck prints is discarded; its verdict is in the report. End of input ends it.
//
// Run from source (java -cp epubcheck.jar EpubCheckServer.java): no build step, no compiled
// class to keep in step with the jar.
import com.adobe.epubcheck.tool.EpubChecker;
import java.io.BufferedReader;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

public class EpubCheckServer {
    public static void main(String[] args) throws Exception {
        PrintStream answers = new PrintStream(new FileOutputStream(FileDescriptor.out), true, "UTF-8");
        PrintStream silent = new PrintStream(OutputStream.nullOutputStream());
        System.setOut(silent);
        System.setErr(silent);
        BufferedReader requests = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String request;
        while ((request = requests.readLine()) != null) {
            String[] paths = request.split("\t", 2);
            try {
                int status = new EpubChecker().run(new String[] {paths[0], "--json", paths[1]});
                answers.println(status);
            } catch (Throwable error) {
                answers.println("error " + String.valueOf(error).replace('\n', ' '));
            }
        }
    }
}
