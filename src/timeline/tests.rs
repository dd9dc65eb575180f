use super::*;

#[test]
fn zones_parse_names_and_offsets() {
    assert_eq!(
        Zone::parse("Europe/Berlin").map(|z| z.name()),
        Some("Europe/Berlin".into())
    );
    assert_eq!(
        Zone::parse("+01:00").map(|z| z.name()),
        Some("+01:00".into())
    );
    assert_eq!(
        Zone::parse("-0530").map(|z| z.name()),
        Some("-05:30".into())
    );
    assert_eq!(Zone::parse("Mars/Olympus"), None);
    assert_eq!(Zone::parse("+1"), None);
}

#[test]
fn feb_29_in_a_common_year_moves_to_the_previous_leap_year() {
    let t = with_year(2029, 2, 29, 1, 2, 3, 0).expect("resolves");
    assert_eq!(t.to_string(), "2028-02-29 01:02:03");
    assert_eq!(with_year(2029, 2, 30, 0, 0, 0, 0), None);
}

#[test]
fn time_sources_have_their_public_names() {
    assert_eq!(
        TimeSource::BootAnchored("btime".into()).as_string(),
        "boot-anchored:btime"
    );
    assert_eq!(TimeSource::ZoneAssumed.as_string(), "zone-assumed");
}
