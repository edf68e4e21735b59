// Driver for the consign document's Java AES sample (000_d8285727c78ba8c7.txt, section 4.1.4).
// Encrypt and str2HexStr below are copied from the document; the only change is the Base64 line, marked
// CHANGED (see README.md). Everything else in this file is scaffolding to run them.
// Input on stdin, UTF-8, one case per line: KEY<TAB>PLAINTEXT. Output: one cardPassword per line.
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import javax.crypto.Cipher;
import javax.crypto.spec.SecretKeySpec;

public class ConsignAesSample {
    // The document's code logs through an SLF4J-style `log` (Lombok @Slf4j); a stub keeps it compiling unchanged.
    static final class Log {
        void error(String format, Object arg) { System.err.println("log.error: " + format + " " + arg); }
    }
    private static final Log log = new Log();

    // ---- from the document, verbatim except the line marked CHANGED ----
    public static String Encrypt(String sSrc, String sKey)  {
        try {
            if (sKey == null) {
                System.out.print("Key为空null");
                return null;
            }
            // 判断Key是否为16位
            if (sKey.length() != 16) {
                System.out.print("Key长度不是16位");
                return null;
            }
            byte[] raw = sKey.getBytes(StandardCharsets.UTF_8);
            SecretKeySpec skeySpec = new SecretKeySpec(raw, "AES");
            Cipher cipher = Cipher.getInstance("AES/ECB/PKCS5Padding");//"算法/模式/补码方式"
            cipher.init(Cipher.ENCRYPT_MODE, skeySpec);
            byte[] encrypted = cipher.doFinal(sSrc.getBytes(StandardCharsets.UTF_8));
            // CHANGED: was `new Base64().encodeToString(encrypted)` (Apache commons-codec), not in the JDK.
            String newstr= java.util.Base64.getEncoder().encodeToString(encrypted);//此处使用BASE64做转码功能，同时能起到2次加密的作用。
            return str2HexStr(newstr).toLowerCase();
        }catch (Exception e){
            log.error("加密错误：{}",sSrc);
            return "";
        }
    }
    /**
     * 字符串转换成为16进制(无需Unicode编码)
     */
    public static String str2HexStr(String str) {
        char[] chars = "0123456789ABCDEF".toCharArray();
        StringBuilder sb = new StringBuilder("");
        byte[] bs = str.getBytes();
        int bit;
        for (int i = 0; i < bs.length; i++) {
            bit = (bs[i] & 0x0f0) >> 4;
            sb.append(chars[bit]);
            bit = bs[i] & 0x0f;
            sb.append(chars[bit]);
        }
        return sb.toString().trim();
    }
    // ---- end of the document's code ----

    public static void main(String[] args) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        String line;
        while ((line = in.readLine()) != null) {
            int tab = line.indexOf('\t');
            if (tab < 0) throw new IllegalArgumentException("no tab in input line: " + line);
            String result = Encrypt(line.substring(tab + 1), line.substring(0, tab));
            if (result == null || result.isEmpty()) throw new IllegalStateException("Encrypt failed for: " + line);
            out.println(result);
        }
    }
}
