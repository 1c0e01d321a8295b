//! Finds the PEM blocks of a file (text around them is ignored, as OpenSSL does) and decodes
//! them with `pem-rfc7468` (through `der`).

use zeroize::Zeroizing;

/// One PEM block of an input file.
pub(crate) struct Block {
    /// The label after `BEGIN ` (e.g. `CERTIFICATE`).
    pub(crate) label: String,
    /// The whole block text, `-----BEGIN` to the end of the `-----END ...-----` line.
    pub(crate) text: Zeroizing<String>,
}

impl Block {
    /// Decodes the block. Legacy OpenSSL encryption headers (`Proc-Type: 4,ENCRYPTED`) are
    /// reported as such.
    pub(crate) fn decode(&self) -> Result<Zeroizing<Vec<u8>>, BlockError> {
        if self.text.contains("Proc-Type:") || self.text.contains("DEK-Info:") {
            return Err(BlockError::LegacyEncrypted);
        }
        match pkcs8::der::pem::decode_vec(self.text.as_bytes()) {
            Ok((_, bytes)) => Ok(Zeroizing::new(bytes)),
            Err(e) => Err(BlockError::Malformed(e.to_string())),
        }
    }
}

/// Why a PEM block does not decode.
#[derive(Debug)]
pub(crate) enum BlockError {
    /// OpenSSL's pre-PKCS#8 encrypted key format (EVP_BytesToKey with MD5).
    LegacyEncrypted,
    /// Bad base64 or framing.
    Malformed(String),
}

/// Whether `data` looks like PEM (has a `-----BEGIN ` marker).
pub(crate) fn is_pem(data: &[u8]) -> bool {
    data.windows(11).any(|w| w == b"-----BEGIN ")
}

/// Splits `data` into its PEM blocks. Text between blocks is skipped. Returns an error text for
/// a `BEGIN` line without its `END` line.
pub(crate) fn blocks(data: &[u8]) -> Result<Vec<Block>, String> {
    let text = Zeroizing::new(String::from_utf8_lossy(data).into_owned());
    let mut out = Vec::new();
    let mut rest: &str = &text;
    while let Some(start) = rest.find("-----BEGIN ") {
        let after = rest.get(start + 11..).unwrap_or("");
        let Some(label_end) = after.find("-----") else {
            return Err("BEGIN line not closed by -----".into());
        };
        let label = after.get(..label_end).unwrap_or("").to_owned();
        if label.contains('\n') || label.len() > 64 {
            return Err("BEGIN line not closed by -----".into());
        }
        let end_marker = format!("-----END {label}-----");
        let Some(end_rel) = after.find(&end_marker) else {
            return Err(format!("no `{end_marker}` line"));
        };
        let block_end = start + 11 + end_rel + end_marker.len();
        let block = rest.get(start..block_end).unwrap_or("");
        out.push(Block {
            label,
            text: Zeroizing::new(format!("{block}\n")),
        });
        rest = rest.get(block_end..).unwrap_or("");
    }
    Ok(out)
}

/// PEM-encodes `der` with `label`, 64-column lines, LF endings.
pub(crate) fn encode(label: &str, der: &[u8]) -> String {
    // Only fails for labels pem-rfc7468 rejects; ours are constants.
    pkcs8::der::pem::encode_string(label, pkcs8::LineEnding::LF, der).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_blocks_and_skips_text() {
        let der = [0x30u8, 0x03, 0x02, 0x01, 0x05];
        let one = encode("CERTIFICATE", &der);
        let two = encode("X509 CRL", &der);
        let file = format!("Certificate:\n  Data: text\n{one}junk\n{two}");
        let b = blocks(file.as_bytes()).unwrap();
        assert_eq!(b.len(), 2);
        assert_eq!(b[0].label, "CERTIFICATE");
        assert_eq!(b[1].label, "X509 CRL");
        assert_eq!(&b[1].decode().unwrap()[..], &der);
        assert!(is_pem(file.as_bytes()));
        assert!(!is_pem(&der));
    }

    #[test]
    fn crlf_and_errors() {
        let der = [0x30u8, 0x03, 0x02, 0x01, 0x05];
        let crlf = encode("CERTIFICATE", &der).replace('\n', "\r\n");
        assert_eq!(
            &blocks(crlf.as_bytes()).unwrap()[0].decode().unwrap()[..],
            &der
        );
        assert!(blocks(b"-----BEGIN CERTIFICATE-----\nAAAA\n").is_err());
        let bad = "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n";
        assert!(matches!(
            blocks(bad.as_bytes()).unwrap()[0].decode(),
            Err(BlockError::Malformed(_))
        ));
        let legacy = "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-256-CBC,00\n\nAAAA\n-----END RSA PRIVATE KEY-----\n";
        assert!(matches!(
            blocks(legacy.as_bytes()).unwrap()[0].decode(),
            Err(BlockError::LegacyEncrypted)
        ));
    }
}
