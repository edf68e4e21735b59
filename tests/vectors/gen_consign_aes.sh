#!/usr/bin/env bash
# Regenerates consign_aes.json: consign cardPassword vectors computed by the document's own samples.
# Needs javac/java (17+), php-cli with openssl, the openssl CLI and jq. Optional: commons-codec
# (Debian: libcommons-codec-java) to also run the Java sample with its original Base64 line.
# Fails unless every producer gives the same cardPassword for every case. See README.md.
set -euo pipefail
cd "$(dirname "$0")"
export LC_ALL=C.UTF-8
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# KEY<TAB>PLAINTEXT, UTF-8. Keys are 16 ASCII characters, as the merchant's AES key is.
cat > "$work/cases.tsv" <<'CASES'
1234567890abcdef	abc123
PayGateKey16Byte	1234567890123456
k3Y!@#$%^&*()_+=	123456789012345
0000000000000000	0123456789abcdef0123456789ABCDEF
a1b2c3d4e5f6g7h8	卡密测试123
ZXCVBNMasdfghjkl	Serial 2024-0601-7788 PIN 9F3K-22QX-81ZD-TT05 / batch B-77 / the test vector exactly 100 chars long.
qwertyuiopasdfgh	https://img.example.com/cards/2024/06/01/9f8e7d6c5b4a3f2e.jpg?x-oss-process=image/resize,w_800
qwertyuiopasdfgh	https://shop.example.cn/redeem?code=AB12-CD34-EF56&from=paygate
1234567890abcdef	
CASES

# The 100-character case must really be 100 characters.
len=$(awk -F'\t' 'NR==6 {print length($2)}' "$work/cases.tsv")
[ "$len" = 100 ] || { echo "case 6 is $len characters, not 100" >&2; exit 1; }

# (a) the document's Java sample, with java.util.Base64 in place of commons-codec's Base64.
mkdir "$work/java"
javac -encoding UTF-8 -d "$work/java" ConsignAesSample.java
java -cp "$work/java" ConsignAesSample < "$work/cases.tsv" > "$work/java.txt"

# (b) the document's PHP sample.
php consign_aes_sample.php < "$work/cases.tsv" > "$work/php.txt"

# (c) a third, independent implementation: the openssl CLI (AES-128-ECB with PKCS#7 padding by default).
while IFS=$'\t' read -r key plaintext; do
  keyhex=$(printf '%s' "$key" | od -An -tx1 | tr -d ' \n')
  printf '%s' "$plaintext" | openssl enc -aes-128-ecb -K "$keyhex" -base64 -A | od -An -tx1 | tr -d ' \n'
  echo
done < "$work/cases.tsv" > "$work/openssl.txt"

cmp "$work/java.txt" "$work/php.txt" || { echo "Java and PHP disagree" >&2; paste "$work/java.txt" "$work/php.txt" >&2; exit 1; }
cmp "$work/java.txt" "$work/openssl.txt" || { echo "Java and openssl disagree" >&2; exit 1; }
echo "java, php and openssl agree on $(wc -l < "$work/cases.tsv") cases"

# (a') if commons-codec is installed, the Java sample fully verbatim (its original Base64 line).
codec=/usr/share/java/commons-codec.jar
if [ -f "$codec" ]; then
  mkdir "$work/verbatim"
  sed -e 's|java.util.Base64.getEncoder().encodeToString(encrypted)|new Base64().encodeToString(encrypted)|' \
      -e 's|^import java.io.BufferedReader;|import org.apache.commons.codec.binary.Base64;\n&|' \
      ConsignAesSample.java > "$work/verbatim/ConsignAesSample.java"
  grep -q 'new Base64().encodeToString(encrypted)' "$work/verbatim/ConsignAesSample.java"
  javac -encoding UTF-8 -cp "$codec" -d "$work/verbatim" "$work/verbatim/ConsignAesSample.java"
  java -cp "$work/verbatim:$codec" ConsignAesSample < "$work/cases.tsv" > "$work/verbatim.txt"
  cmp "$work/java.txt" "$work/verbatim.txt" || { echo "commons-codec Base64 differs from java.util.Base64" >&2; exit 1; }
  echo "the verbatim Java sample (commons-codec $(unzip -p "$codec" META-INF/MANIFEST.MF | sed -n 's/^Implementation-Version: //p' | tr -d '\r')) agrees too"
else
  echo "commons-codec not installed: skipped the verbatim Java run" >&2
fi

source="document 000 section 4.1.4 Java sample (java.util.Base64 for commons-codec Base64) == PHP openssl_encrypt sample == openssl enc"
paste "$work/cases.tsv" "$work/java.txt" |
  jq -Rn --arg source "$source" \
     '[inputs | split("\t") | {key: .[0], plaintext: .[1], source: $source, cardPassword: .[2]}]' > consign_aes.json
echo "wrote $(jq length consign_aes.json) vectors to tests/vectors/consign_aes.json"
