fn main() {
    let path = std::env::args().nth(1).unwrap_or_default();
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let parsed = payer_rules::syntax::parse(&text);
    println!("{:#?}", parsed.errors);
    if let Some(m) = &parsed.file.module { println!("items {} header {}", m.items.len(), m.header.len()); }
}
