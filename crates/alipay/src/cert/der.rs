//! Just enough DER to read an X.509 certificate: elements, OIDs, RFC 2253 names, big integers.

/// A DER element: tag, content, and the whole encoding.
pub(super) struct Tlv<'a> {
    pub tag: u8,
    pub content: &'a [u8],
    pub whole: &'a [u8],
}

pub(super) type R<T> = std::result::Result<T, String>;

pub(super) fn read_tlv(input: &[u8]) -> R<(Tlv<'_>, &[u8])> {
    let tag = *input.first().ok_or("truncated DER (no tag)")?;
    if tag & 0x1f == 0x1f {
        return Err("unsupported multi-byte DER tag".into());
    }
    let first = *input.get(1).ok_or("truncated DER (no length)")?;
    let (len, header) = if first < 0x80 {
        (first as usize, 2)
    } else {
        let n = (first & 0x7f) as usize;
        if n == 0 || n > 4 {
            return Err("unsupported DER length".into());
        }
        let bytes = input.get(2..2 + n).ok_or("truncated DER length")?;
        (bytes.iter().fold(0usize, |acc, b| (acc << 8) | *b as usize), 2 + n)
    };
    let end = header.checked_add(len).ok_or("DER length overflow")?;
    let whole = input.get(..end).ok_or("truncated DER content")?;
    Ok((Tlv { tag, content: &whole[header..], whole }, &input[end..]))
}

pub(super) fn expect<'a>(input: &'a [u8], tag: u8, what: &str) -> R<(Tlv<'a>, &'a [u8])> {
    let (tlv, rest) = read_tlv(input)?;
    if tlv.tag != tag {
        return Err(format!("expected {what} (tag {tag:#04x}), found tag {:#04x}", tlv.tag));
    }
    Ok((tlv, rest))
}

pub(super) fn oid_to_string(bytes: &[u8]) -> R<String> {
    let mut parts: Vec<u64> = Vec::new();
    let mut acc: u64 = 0;
    for (i, b) in bytes.iter().enumerate() {
        acc = acc.checked_mul(128).ok_or("OID component too large")? | u64::from(b & 0x7f);
        if b & 0x80 == 0 {
            if parts.is_empty() {
                let first = if acc < 40 {
                    0
                } else if acc < 80 {
                    1
                } else {
                    2
                };
                parts.push(first);
                parts.push(acc - first * 40);
            } else {
                parts.push(acc);
            }
            acc = 0;
        } else if i + 1 == bytes.len() {
            return Err("truncated OID".into());
        }
    }
    if parts.is_empty() {
        return Err("empty OID".into());
    }
    Ok(parts.iter().map(u64::to_string).collect::<Vec<_>>().join("."))
}

/// The Java `X500Principal.getName()` (RFC 2253) rendering of a DER Name's content.
pub(super) fn rfc2253(name: &[u8]) -> R<String> {
    let mut rdns = Vec::new();
    let mut rest = name;
    while !rest.is_empty() {
        let (set, r) = expect(rest, 0x31, "RelativeDistinguishedName SET")?;
        rest = r;
        let mut atvs = Vec::new();
        let mut inner = set.content;
        while !inner.is_empty() {
            let (atv, r) = expect(inner, 0x30, "AttributeTypeAndValue")?;
            inner = r;
            let (oid, value_rest) = expect(atv.content, 0x06, "attribute type OID")?;
            let (value, _) = read_tlv(value_rest)?;
            let oid = oid_to_string(oid.content)?;
            let rendered = match keyword(&oid) {
                Some(kw) => match string_value(&value) {
                    Some(s) => format!("{kw}={}", escape_rfc2253(&s)),
                    None => format!("{kw}=#{}", hex(value.whole)),
                },
                None => format!("{oid}=#{}", hex(value.whole)),
            };
            atvs.push(rendered);
        }
        rdns.push(atvs.join("+"));
    }
    rdns.reverse();
    Ok(rdns.join(","))
}

/// RFC 2253 keywords that Java prints by name.
fn keyword(oid: &str) -> Option<&'static str> {
    Some(match oid {
        "2.5.4.3" => "CN",
        "2.5.4.6" => "C",
        "2.5.4.7" => "L",
        "2.5.4.8" => "ST",
        "2.5.4.9" => "STREET",
        "2.5.4.10" => "O",
        "2.5.4.11" => "OU",
        "0.9.2342.19200300.100.1.25" => "DC",
        "0.9.2342.19200300.100.1.1" => "UID",
        _ => return None,
    })
}

fn string_value(v: &Tlv<'_>) -> Option<String> {
    match v.tag {
        0x0c | 0x13 | 0x16 | 0x12 => std::str::from_utf8(v.content).ok().map(str::to_owned),
        0x14 => Some(v.content.iter().map(|b| *b as char).collect()),
        0x1e => {
            if !v.content.len().is_multiple_of(2) {
                return None;
            }
            let units: Vec<u16> = v.content.chunks(2).map(|c| u16::from_be_bytes([c[0], c[1]])).collect();
            String::from_utf16(&units).ok()
        }
        0x1c => {
            if !v.content.len().is_multiple_of(4) {
                return None;
            }
            v.content.chunks(4).map(|c| char::from_u32(u32::from_be_bytes([c[0], c[1], c[2], c[3]]))).collect()
        }
        _ => None,
    }
}

fn escape_rfc2253(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let count = s.chars().count();
    for (i, c) in s.chars().enumerate() {
        let special = matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';')
            || (i == 0 && (c == '#' || c == ' '))
            || (i + 1 == count && c == ' ');
        if special {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Decimal rendering of a DER INTEGER (two's complement, big-endian), like `BigInteger.toString(10)`.
pub(super) fn integer_to_decimal(bytes: &[u8]) -> R<String> {
    if bytes.is_empty() {
        return Err("empty serial number".into());
    }
    let negative = bytes[0] & 0x80 != 0;
    let mut mag: Vec<u8> = if negative {
        // Two's complement negate: invert and add one.
        let mut v: Vec<u8> = bytes.iter().map(|b| !b).collect();
        for b in v.iter_mut().rev() {
            let (s, carry) = b.overflowing_add(1);
            *b = s;
            if !carry {
                break;
            }
        }
        v
    } else {
        bytes.to_vec()
    };
    let mut digits = Vec::new();
    while mag.iter().any(|b| *b != 0) {
        let mut rem: u32 = 0;
        for b in mag.iter_mut() {
            let cur = (rem << 8) | u32::from(*b);
            *b = (cur / 10) as u8;
            rem = cur % 10;
        }
        digits.push(char::from(b'0' + rem as u8));
    }
    if digits.is_empty() {
        digits.push('0');
    }
    if negative {
        digits.push('-');
    }
    Ok(digits.iter().rev().collect())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn decimal_of_integers() {
        assert_eq!(integer_to_decimal(&[0x00]).unwrap(), "0");
        assert_eq!(integer_to_decimal(&[0x01, 0x00]).unwrap(), "256");
        assert_eq!(integer_to_decimal(&[0xff]).unwrap(), "-1");
        assert_eq!(
            integer_to_decimal(&[0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]).unwrap(),
            "18446744073709551615"
        );
    }

    #[test]
    fn oids() {
        assert_eq!(
            oid_to_string(&[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b]).unwrap(),
            "1.2.840.113549.1.1.11"
        );
        assert_eq!(oid_to_string(&[0x55, 0x04, 0x03]).unwrap(), "2.5.4.3");
    }

    #[test]
    fn escaping() {
        assert_eq!(escape_rfc2253("a,b+c"), "a\\,b\\+c");
        assert_eq!(escape_rfc2253(" #x "), "\\ #x\\ ");
    }
}
