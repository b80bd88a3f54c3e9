//! Masking of personal data for logs and displays: names, phone numbers, ID numbers.

/// "张三丰" → "张**"; "Li Lei" → "L*****".
pub fn name(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => std::iter::once(first).chain(chars.map(|_| '*')).collect(),
        None => String::new(),
    }
}

/// "13812345678" → "138****5678"; "0571-88881234" → "0571-****1234".
pub fn phone(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let n = chars.len();
    if n <= 4 {
        return "*".repeat(n);
    }
    let keep_tail = 4;
    let keep_head = match s.find('-') {
        Some(dash) => dash + 1,
        None => 3.min(n - keep_tail),
    };
    chars
        .iter()
        .enumerate()
        .map(|(i, c)| {
            if i < keep_head || i >= n - keep_tail {
                *c
            } else {
                '*'
            }
        })
        .collect()
}

/// "110101199003071234" → "1101**********1234".
pub fn id_document(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let n = chars.len();
    if n <= 8 {
        return "*".repeat(n);
    }
    chars
        .iter()
        .enumerate()
        .map(|(i, c)| if i < 4 || i >= n - 4 { *c } else { '*' })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_keep_only_what_identifies_nobody() {
        assert_eq!(name("张三丰"), "张**");
        assert_eq!(phone("13812345678"), "138****5678");
        assert_eq!(phone("0571-88881234"), "0571-****1234");
        assert_eq!(id_document("110101199003071234"), "1101**********1234");
        assert_eq!(phone("123"), "***");
        assert_eq!(name(""), "");
    }
}
