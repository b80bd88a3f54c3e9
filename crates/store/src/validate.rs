//! Checks on input from outside, each failing with a message that names the field.

use crate::error::StoreError;
use crate::model::{AgentAccount, Customer, Interaction, NewTicket};

/// Longest free text (notes, descriptions, addresses), in characters.
pub const MAX_TEXT: usize = 4000;
/// Longest name, in characters.
pub const MAX_NAME: usize = 64;
/// Longest telephone number a call record keeps (calling or dialled), in characters.
pub const MAX_NUMBER: usize = 32;
/// Longest code (a call reason, a disposition), in characters.
pub const MAX_CODE: usize = 64;

fn invalid(field: &'static str, why: impl Into<String>) -> StoreError {
    StoreError::Invalid {
        field,
        why: why.into(),
    }
}

/// An 11-digit mainland mobile number (1[3-9]…) or a fixed line "0AA(A)-NNNNNNN(N)".
pub fn phone(field: &'static str, p: &str) -> Result<(), StoreError> {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let ok = if let Some((area, local)) = p.split_once('-') {
        digits(area)
            && digits(local)
            && area.starts_with('0')
            && (3..=4).contains(&area.len())
            && (7..=8).contains(&local.len())
    } else {
        digits(p) && p.len() == 11 && p.starts_with('1') && matches!(p.as_bytes()[1], b'3'..=b'9')
    };
    if ok {
        Ok(())
    } else {
        Err(invalid(
            field,
            format!(
                "'{}' is neither an 11-digit mobile number nor a fixed line like 0571-88881234",
                crate::mask::phone(p)
            ),
        ))
    }
}

/// A mainland resident ID number: 17 digits and a check character (GB 11643).
pub fn id_document(p: &str) -> Result<(), StoreError> {
    let b = p.as_bytes();
    let bad = || {
        invalid(
            "id_document",
            "is not an 18-character resident ID number with a valid check digit",
        )
    };
    if b.len() != 18 || !b[..17].iter().all(u8::is_ascii_digit) {
        return Err(bad());
    }
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = b[..17]
        .iter()
        .zip(W)
        .map(|(d, w)| (d - b'0') as u32 * w)
        .sum();
    let check = b"10X98765432"[(sum % 11) as usize];
    if b[17].to_ascii_uppercase() == check {
        Ok(())
    } else {
        Err(bad())
    }
}

/// The check character for 17 ID digits (used by the seeder).
pub fn id_check_char(first17: &[u8]) -> u8 {
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = first17
        .iter()
        .zip(W)
        .map(|(d, w)| (d - b'0') as u32 * w)
        .sum();
    b"10X98765432"[(sum % 11) as usize]
}

fn text(field: &'static str, s: &str, max: usize) -> Result<(), StoreError> {
    let n = s.chars().count();
    if n > max {
        Err(invalid(
            field,
            format!("is {n} characters long; at most {max}"),
        ))
    } else {
        Ok(())
    }
}

fn name(field: &'static str, s: &str) -> Result<(), StoreError> {
    if s.trim().is_empty() {
        return Err(invalid(field, "is empty"));
    }
    if s.chars().any(char::is_control) {
        return Err(invalid(field, "contains control characters"));
    }
    text(field, s, MAX_NAME)
}

/// A customer as given by a client.
pub fn customer(c: &Customer) -> Result<(), StoreError> {
    name("name", &c.name)?;
    if c.phones.is_empty() {
        return Err(invalid("phones", "at least one phone number is needed"));
    }
    if c.phones.len() > 16 {
        return Err(invalid("phones", "at most 16 numbers"));
    }
    for p in &c.phones {
        phone("phones", p)?;
    }
    if let Some(d) = &c.id_document {
        id_document(d)?;
    }
    text("address", &c.address, MAX_TEXT)?;
    text("district", &c.district, MAX_NAME)?;
    text("area", &c.area, MAX_NAME)?;
    text("notes", &c.notes, MAX_TEXT)?;
    if !(1..=5).contains(&c.credit_level) {
        return Err(invalid(
            "credit_level",
            format!("must be 1–5, got {}", c.credit_level),
        ));
    }
    if c.arpu_history_fen.len() > 6 {
        return Err(invalid(
            "arpu_history_fen",
            "holds at most the last 6 months",
        ));
    }
    if c.tags.len() > 32 || c.tags.iter().any(|t| t.chars().count() > MAX_NAME) {
        return Err(invalid("tags", "at most 32 tags of 64 characters"));
    }
    if c.services.len() > 64 {
        return Err(invalid("services", "at most 64 services"));
    }
    Ok(())
}

/// A telephone number on a call (calling or dialled): not empty, at most
/// [`MAX_NUMBER`] characters, no control characters. The router checks a dial with this
/// before it takes the call, and the store checks the call's record with it, so a call
/// the router accepted always has a record the store takes.
pub fn call_number(field: &'static str, s: &str) -> Result<(), StoreError> {
    if s.trim().is_empty() {
        return Err(invalid(field, "is empty"));
    }
    if s.chars().any(char::is_control) {
        return Err(invalid(field, "contains control characters"));
    }
    text(field, s, MAX_NUMBER)
}

/// A code from a catalog (call reason, disposition): at most [`MAX_CODE`] characters,
/// no control characters; empty means "not given".
pub fn code(field: &'static str, s: &str) -> Result<(), StoreError> {
    if s.chars().any(char::is_control) {
        return Err(invalid(field, "contains control characters"));
    }
    text(field, s, MAX_CODE)
}

/// What an agent writes at wrap-up into the call's record: disposition, reason and
/// notes, by the rules [`interaction`] applies to the record.
pub fn wrap_up(disposition: &str, reason: &str, notes: &str) -> Result<(), StoreError> {
    code("disposition", disposition)?;
    code("reason", reason)?;
    text("notes", notes, MAX_TEXT)
}

/// An interaction as written at the end of a call.
pub fn interaction(i: &Interaction) -> Result<(), StoreError> {
    call_number("caller_number", &i.caller_number)?;
    call_number("dialled", &i.dialled)?;
    wrap_up(
        i.disposition.as_deref().unwrap_or(""),
        i.reason.as_deref().unwrap_or(""),
        &i.notes,
    )?;
    if i.ended < i.arrived {
        return Err(invalid("ended", "is before the call arrived"));
    }
    if let Some(s) = i.satisfaction {
        if !(1..=5).contains(&s) {
            return Err(invalid("satisfaction", format!("must be 1–5, got {s}")));
        }
    }
    if i.ivr_path.len() > 64 || i.agents.len() > 64 || i.tickets.len() > 64 {
        return Err(invalid(
            "ivr_path/agents/tickets",
            "at most 64 entries each",
        ));
    }
    Ok(())
}

/// A new ticket.
pub fn new_ticket(t: &NewTicket) -> Result<(), StoreError> {
    if t.description.trim().is_empty() {
        return Err(invalid("description", "is empty"));
    }
    text("description", &t.description, MAX_TEXT)
}

/// Free text in a ticket change.
pub fn change_text(field: &'static str, s: &str) -> Result<(), StoreError> {
    text(field, s, MAX_TEXT)
}

/// An agent account.
pub fn agent(a: &AgentAccount) -> Result<(), StoreError> {
    name("id", &a.id)?;
    name("name", &a.name)?;
    if a.skills.iter().any(|(_, l)| !(1..=10).contains(l)) {
        return Err(invalid("skills", "levels are 1–10"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_and_id_numbers() {
        assert!(phone("p", "13812345678").is_ok());
        assert!(phone("p", "0571-88881234").is_ok());
        assert!(phone("p", "010-6512345").is_ok());
        for bad in [
            "1381234567",
            "12812345678",
            "571-88881234",
            "0571-12",
            "abc",
            "",
        ] {
            assert!(phone("p", bad).is_err(), "{bad}");
        }
        let mut id = b"11010119900307123".to_vec();
        id.push(id_check_char(&id));
        assert!(id_document(std::str::from_utf8(&id).unwrap()).is_ok());
        *id.last_mut().unwrap() = if id[17] == b'0' { b'1' } else { b'0' };
        assert!(id_document(std::str::from_utf8(&id).unwrap()).is_err());
    }
}
