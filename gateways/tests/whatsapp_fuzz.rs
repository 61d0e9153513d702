//! The WhatsApp parser never panics, whatever arrives: arbitrary bytes, arbitrary JSON, and
//! real notifications with fields replaced by values of the wrong type. It either returns a
//! batch or a clean error.

#![allow(missing_docs)]

use proptest::prelude::*;
use serde_json::{Value, json};
use switchyard_gateways::whatsapp::inbound::parse;

const NUMBER_ID: &str = "1122334455667";

/// Any JSON value, a few levels deep.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter("finite", |n| n.is_finite())
            .prop_map(|n| json!(n)),
        ".{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::hash_map("[a-z_]{1,10}", inner, 0..4)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

/// A well-formed text notification for the inbox.
fn notification() -> Value {
    json!({
        "object": "whatsapp_business_account",
        "entry": [{"id": "1", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "972123456789", "phone_number_id": NUMBER_ID},
            "contacts": [{"profile": {"name": "Test"}, "wa_id": "972987654321"}],
            "messages": [{"from": "972987654321", "id": "wamid.1", "timestamp": "1697043223",
                          "type": "text", "text": {"body": "hi"}}],
            "statuses": [{"id": "wamid.2", "status": "read", "timestamp": "1697043223",
                          "recipient_id": "972987654321"}]
        }}]}]
    })
}

/// Every JSON pointer into a value.
fn pointers(value: &Value, prefix: String, out: &mut Vec<String>) {
    out.push(prefix.clone());
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                pointers(child, format!("{prefix}/{key}"), out);
            }
        }
        Value::Array(items) => {
            for (index, child) in items.iter().enumerate() {
                pointers(child, format!("{prefix}/{index}"), out);
            }
        }
        _ => {}
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let _ = parse(&bytes, NUMBER_ID);
    }

    #[test]
    fn arbitrary_json_never_panics(value in any_json()) {
        let _ = parse(value.to_string().as_bytes(), NUMBER_ID);
    }

    #[test]
    fn a_notification_with_one_field_replaced_never_panics(
        choice in any::<prop::sample::Index>(),
        replacement in any_json(),
    ) {
        let mut body = notification();
        let mut paths = Vec::new();
        pointers(&body, String::new(), &mut paths);
        let path = choice.get(&paths).clone();
        if let Some(slot) = body.pointer_mut(&path) {
            *slot = replacement;
        }

        let _ = parse(body.to_string().as_bytes(), NUMBER_ID);
    }
}

#[test]
fn the_unmodified_notification_parses() {
    let batch = parse(notification().to_string().as_bytes(), NUMBER_ID).expect("a valid body");

    assert_eq!(batch.messages.len(), 1);
    assert_eq!(batch.statuses.len(), 1);
}
