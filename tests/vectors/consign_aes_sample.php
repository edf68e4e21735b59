<?php
// Driver for the consign document's PHP AES sample (000_d8285727c78ba8c7.txt, section 4.1.5 "Php 加密代码示例").
// The two lines inside the loop are the document's sample with its placeholders replaced by variables.
// Input on stdin, UTF-8, one case per line: KEY<TAB>PLAINTEXT. Output: one cardPassword per line.
while (($line = fgets(STDIN)) !== false) {
    $line = rtrim($line, "\n");
    [$key, $plaintext] = explode("\t", $line, 2);
    $data = openssl_encrypt($plaintext, 'AES-128-ECB', $key, 0);
    $datakey = bin2hex($data);//把结果base64解码转16进制 得到加密后的数据
    if ($data === false || strlen($key) !== 16) { fwrite(STDERR, "openssl_encrypt failed: $line\n"); exit(1); }
    echo $datakey, "\n";
}
