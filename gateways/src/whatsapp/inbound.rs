//! Reads a Cloud API webhook body into the engine's inbound messages and delivery reports.
//!
//! A body is accepted or refused whole. Every change is read and checked (its shape, that it
//! belongs to this inbox's number, its timestamps) before anything is returned, so a caller
//! never stores half of a body Meta will send again.
//!
//! Meta adds message types over time. A message this module does not understand is still
//! returned, with no content and `is_unsupported` set, so the agent sees that the customer
//! wrote and the provider is not made to retry something that can never succeed. Only a body
//! that is not a WhatsApp notification at all, or that belongs to another number, is refused.
//!
//! This module must not dedupe, look up contacts or download media: the body has already been
//! verified (see [`super::signature`]), and what follows belongs to the channel actor.

use serde::Deserialize;
use serde_json::{Map, Value, json};
use switchyard_engine::Timestamp;
use switchyard_engine::contact::ContactProfile;
use switchyard_engine::inbound::{InboundMessage, StatusReport};
use switchyard_engine::message::{Attachment, ContentType, FileType, MessageStatus};
use thiserror::Error;

/// The `object` of every WhatsApp Business Account notification.
pub const WHATSAPP_OBJECT: &str = "whatsapp_business_account";

/// The change `field` that carries messages and delivery reports. Other fields are account
/// events (template reviews, quality ratings...) that do not concern conversations. A change
/// without a `field` is read as a messages change: ignoring it could drop customer messages
/// while telling Meta they were received.
const MESSAGES_FIELD: &str = "messages";

/// What one webhook body carried for the inbox.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WebhookBatch {
    /// Customer messages, in the order Meta listed them.
    pub messages: Vec<InboundMessage>,
    /// Reports on messages the inbox sent, in the order Meta listed them.
    pub statuses: Vec<StatusReport>,
}

/// Why a webhook body is refused. Each message says what is wrong with the body, in words fit
/// to send back to the provider.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum PayloadError {
    /// The body is not JSON.
    #[error("the body is not valid JSON: {message}")]
    Json {
        /// The parser's explanation, with the line and column.
        message: String,
    },
    /// The body is JSON but not shaped like a WhatsApp webhook notification.
    #[error("the body is not a WhatsApp webhook notification: {message}")]
    Shape {
        /// Where in the body and what is wrong.
        message: String,
    },
    /// The notification is about something other than a WhatsApp Business Account.
    #[error("the notification's object is `{object}`, expected `{WHATSAPP_OBJECT}`")]
    WrongObject {
        /// The `object` received.
        object: String,
    },
    /// A change is addressed to a phone number id other than this inbox's.
    #[error("the change for phone_number_id `{phone_number_id}` belongs to another number")]
    OtherNumber {
        /// The `metadata.phone_number_id` received.
        phone_number_id: String,
    },
    /// A timestamp is not a whole number of Unix seconds between 1970 and 9999.
    #[error("{path}: timestamp `{value}` is not a Unix time in seconds between 1970 and 9999")]
    BadTimestamp {
        /// Where the timestamp is in the body.
        path: String,
        /// The timestamp received.
        value: String,
    },
    /// A message says neither who sent it nor which message it is.
    #[error("{path}: the message has no {missing}")]
    Incomplete {
        /// Where the message is in the body.
        path: String,
        /// What it lacks.
        missing: &'static str,
    },
}

impl PayloadError {
    /// Tells broken JSON from JSON of the wrong shape, keeping serde's explanation.
    fn from_serde(error: serde_json::Error) -> Self {
        let message = error.to_string();
        if error.is_data() {
            PayloadError::Shape { message }
        } else {
            PayloadError::Json { message }
        }
    }
}

/// Reads a verified webhook body addressed to the inbox whose number has the Meta id
/// `expected_phone_number_id`.
pub fn parse(body: &[u8], expected_phone_number_id: &str) -> Result<WebhookBatch, PayloadError> {
    let notification: Notification =
        serde_json::from_slice(body).map_err(PayloadError::from_serde)?;
    if notification.object != WHATSAPP_OBJECT {
        return Err(PayloadError::WrongObject {
            object: notification.object,
        });
    }

    // All changes are read and checked before any is mapped, so a refusal refuses everything.
    let changes = message_changes(notification, expected_phone_number_id)?;

    let mut batch = WebhookBatch::default();
    for change in &changes {
        change.map_into(&mut batch)?;
    }
    Ok(batch)
}

/// The `messages` changes of a notification, each read and checked against the inbox's number.
fn message_changes(
    notification: Notification,
    expected_phone_number_id: &str,
) -> Result<Vec<LocatedChange>, PayloadError> {
    let mut changes = Vec::new();
    for (entry_index, entry) in notification.entry.into_iter().enumerate() {
        for (change_index, change) in entry.changes.into_iter().enumerate() {
            if change
                .field
                .as_deref()
                .is_some_and(|field| field != MESSAGES_FIELD)
            {
                continue;
            }
            let path = format!("entry[{entry_index}].changes[{change_index}].value");
            let value = ChangeValue::read(&path, change.value)?;
            value.check_number(expected_phone_number_id)?;
            changes.push(LocatedChange { path, value });
        }
    }
    Ok(changes)
}

/// A `messages` change and where it sits in the body, for error messages.
struct LocatedChange {
    /// `entry[i].changes[j].value`.
    path: String,
    /// What the change carries.
    value: ChangeValue,
}

impl LocatedChange {
    /// Adds the change's messages and reports to `batch`.
    fn map_into(&self, batch: &mut WebhookBatch) -> Result<(), PayloadError> {
        for (index, message) in self.value.messages.iter().enumerate() {
            let path = format!("{}.messages[{index}]", self.path);
            batch
                .messages
                .push(inbound_message(&path, message, &self.value)?);
        }
        for (index, status) in self.value.statuses.iter().enumerate() {
            let path = format!("{}.statuses[{index}]", self.path);
            batch.statuses.extend(status_report(&path, status)?);
        }
        Ok(())
    }
}

/// One customer message in the engine's terms.
fn inbound_message(
    path: &str,
    message: &WireMessage,
    change: &ChangeValue,
) -> Result<InboundMessage, PayloadError> {
    let incomplete = |missing| PayloadError::Incomplete {
        path: path.to_owned(),
        missing,
    };
    let sender = message
        .sender()
        .ok_or(incomplete("sender (`from` or `from_user_id`)"))?;
    if message.id.is_empty() {
        return Err(incomplete("`id`"));
    }
    let sent_at = unix_time(path, message.timestamp.as_ref())?;

    let mapped = map_body(&message.body, &change.errors);
    Ok(InboundMessage {
        contact: contact_profile(sender, &change.contacts),
        source_id: Some(message.id.clone()),
        content: mapped.content,
        content_type: ContentType::Text,
        content_attributes: Value::Object(mapped.attributes),
        attachments: mapped.attachments,
        sent_at,
        echo_id: None,
    })
}

/// What Meta says about the customer behind `sender`, from the change's `contacts[]`.
fn contact_profile(sender: &str, contacts: &[WireContact]) -> ContactProfile {
    let contact = contacts.iter().find(|contact| contact.is(sender));
    let name = contact
        .and_then(|contact| contact.profile.name.clone())
        .filter(|name| !name.trim().is_empty())
        .unwrap_or_else(|| sender.to_owned());
    let is_phone_number = sender.bytes().all(|byte| byte.is_ascii_digit());
    ContactProfile {
        source_id: sender.to_owned(),
        name: Some(name),
        phone_number: is_phone_number.then(|| format!("+{sender}")),
        email: None,
        identifier: None,
        additional_attributes: contact.map_or_else(|| json!({}), WireContact::attributes),
    }
}

/// A delivery report, or `None` for a status that is not a delivery step (`deleted`,
/// `warning`, and whatever Meta adds later).
fn status_report(path: &str, status: &WireStatus) -> Result<Option<StatusReport>, PayloadError> {
    let at = unix_time(path, status.timestamp.as_ref())?;
    let Ok(kind) = MessageStatus::parse(&status.status) else {
        return Ok(None);
    };
    let error = match kind {
        MessageStatus::Failed => status.errors.first().map(WireError::describe),
        _ => None,
    };
    Ok(Some(StatusReport {
        source_id: status.id.clone(),
        status: kind,
        error,
        at,
    }))
}

/// 9999-12-31T23:59:59Z: later times cannot be meant and would not survive conversion.
const LAST_UNIX_SECOND: i64 = 253_402_300_799;

/// A timestamp in Unix seconds, as Meta sends them (a string of digits, sometimes a number).
fn unix_time(
    path: &str,
    timestamp: Option<&WireTimestamp>,
) -> Result<Option<Timestamp>, PayloadError> {
    let bad = |value: String| PayloadError::BadTimestamp {
        path: path.to_owned(),
        value,
    };
    let seconds: i64 = match timestamp {
        None => return Ok(None),
        Some(WireTimestamp::Number(seconds)) => *seconds,
        Some(WireTimestamp::Text(text)) => text.trim().parse().map_err(|_| bad(text.clone()))?,
    };
    if !(0..=LAST_UNIX_SECOND).contains(&seconds) {
        return Err(bad(seconds.to_string()));
    }
    Ok(Some(Timestamp::from_unix_seconds(seconds)))
}

/// A message body in the engine's terms, before it is given a sender and an id.
#[derive(Default)]
struct Mapped {
    /// The text agents read.
    content: Option<String>,
    /// Files, locations and contact cards.
    attachments: Vec<Attachment>,
    /// `content_attributes`.
    attributes: Map<String, Value>,
}

impl Mapped {
    /// A body that is just text.
    fn text(content: Option<String>) -> Self {
        Mapped {
            content: content.filter(|text| !text.is_empty()),
            ..Mapped::default()
        }
    }

    /// A body this module cannot represent, with the provider's error when it gave one.
    fn unsupported(error: Option<&WireError>) -> Self {
        let mut mapped = Mapped::default();
        mapped.set("is_unsupported", true);
        if let Some(error) = error {
            mapped.set("external_error", error.describe());
        }
        mapped
    }

    /// Sets one content attribute.
    fn set(&mut self, key: &str, value: impl Into<Value>) {
        self.attributes.insert(key.to_owned(), value.into());
    }

    /// A body that is the given attributes and content, with nothing attached.
    fn with(content: Option<String>, attributes: Value) -> Self {
        let attributes = match attributes {
            Value::Object(attributes) => attributes,
            _ => Map::new(),
        };
        Mapped {
            content,
            attributes,
            ..Mapped::default()
        }
    }
}

/// Maps a message body by its `type`. `change_errors` are the errors Meta reported for the
/// whole change, which explain a body it could not fill in.
fn map_body(body: &MessageBody, change_errors: &[WireError]) -> Mapped {
    // A message Meta reports errors for is one it could not deliver to us intact.
    let mut mapped = match body.errors.first() {
        Some(error) => Mapped::unsupported(Some(error)),
        None => map_known_type(body, change_errors)
            .unwrap_or_else(|| Mapped::unsupported(change_errors.first())),
    };
    add_context(&mut mapped, body);
    mapped
}

/// Maps the body of a type this module knows, or `None` when the type is unknown or the part
/// named by the type is missing.
fn map_known_type(body: &MessageBody, change_errors: &[WireError]) -> Option<Mapped> {
    match body.kind.as_deref()? {
        "text" => body
            .text
            .as_ref()
            .map(|text| Mapped::text(text.body.clone())),
        "image" => media(body.image.as_ref(), FileType::Image),
        "sticker" => media(body.sticker.as_ref(), FileType::Image),
        "video" => media(body.video.as_ref(), FileType::Video),
        "audio" => media(body.audio.as_ref(), FileType::Audio),
        "document" => media(body.document.as_ref(), FileType::File),
        "location" => body.location.as_ref().map(Location::to_mapped),
        "contacts" => contact_cards(body.contacts.as_deref()?),
        "interactive" => body.interactive.as_ref()?.to_mapped(),
        "button" => body.button.as_ref().map(QuickReply::to_mapped),
        "reaction" => body.reaction.as_ref().map(Reaction::to_mapped),
        "edit" => body.edit.as_ref().map(|edit| edit.to_mapped(change_errors)),
        "revoke" => body.revoke.as_ref().map(Revoke::to_mapped),
        "system" => body.system.as_ref().map(System::to_mapped),
        _ => None,
    }
}

/// Adds what any message type may carry: the quoted message and the ad that started the chat.
fn add_context(mapped: &mut Mapped, body: &MessageBody) {
    let quoted = body.context.as_ref().and_then(|context| context.id.clone());
    if let Some(quoted) = quoted {
        // A reaction already names the message it reacts to.
        mapped
            .attributes
            .entry("in_reply_to_external_id")
            .or_insert(Value::String(quoted));
    }
    if let Some(referral) = &body.referral {
        mapped.set("referral", referral.clone());
    }
}

/// A media attachment of kind `file_type`; `None` when the media part is missing.
fn media(media: Option<&Media>, file_type: FileType) -> Option<Mapped> {
    media.map(|media| media.to_mapped(file_type))
}

/// One contact attachment per shared card; `None` for an empty list.
fn contact_cards(cards: &[ContactCard]) -> Option<Mapped> {
    if cards.is_empty() {
        return None;
    }
    let attachments = cards.iter().map(ContactCard::to_attachment).collect();
    Some(Mapped {
        attachments,
        ..Mapped::default()
    })
}

/// The top of a webhook notification.
#[derive(Deserialize)]
struct Notification {
    /// What the notification is about.
    object: String,
    /// One entry per business account.
    #[serde(default)]
    entry: Vec<Entry>,
}

/// One business account's changes.
#[derive(Deserialize)]
struct Entry {
    /// What changed.
    #[serde(default)]
    changes: Vec<Change>,
}

/// One change. Its value is kept unread until the field says it is one this module reads,
/// because other fields have other shapes.
#[derive(Deserialize)]
struct Change {
    /// What kind of change it is.
    field: Option<String>,
    /// The change itself.
    #[serde(default)]
    value: Value,
}

/// The value of a `messages` change.
#[derive(Deserialize)]
struct ChangeValue {
    /// Which business number the change is for.
    metadata: Metadata,
    /// Profiles of the customers who wrote.
    #[serde(default)]
    contacts: Vec<WireContact>,
    /// Customer messages.
    #[serde(default)]
    messages: Vec<WireMessage>,
    /// Reports on messages the business sent.
    #[serde(default)]
    statuses: Vec<WireStatus>,
    /// Errors about the change as a whole.
    #[serde(default)]
    errors: Vec<WireError>,
}

impl ChangeValue {
    /// Reads the value found at `path`.
    fn read(path: &str, value: Value) -> Result<Self, PayloadError> {
        serde_json::from_value(value).map_err(|error| PayloadError::Shape {
            message: format!("{path}: {error}"),
        })
    }

    /// Refuses a change addressed to another number.
    fn check_number(&self, expected_phone_number_id: &str) -> Result<(), PayloadError> {
        if self.metadata.phone_number_id == expected_phone_number_id {
            return Ok(());
        }
        Err(PayloadError::OtherNumber {
            phone_number_id: self.metadata.phone_number_id.clone(),
        })
    }
}

/// The business number a change is for.
#[derive(Deserialize)]
struct Metadata {
    /// Meta's id for the number.
    phone_number_id: String,
}

/// A customer's profile, as listed beside their messages.
#[derive(Deserialize)]
struct WireContact {
    /// The customer's name and username.
    #[serde(default)]
    profile: Profile,
    /// The customer's WhatsApp id (their phone number's digits).
    wa_id: Option<String>,
    /// The customer's business-scoped user id, which Meta sends beside (and may one day send
    /// instead of) the phone number.
    user_id: Option<String>,
    /// The parent business-scoped user id, for businesses with several portfolios.
    parent_user_id: Option<String>,
}

impl WireContact {
    /// Whether this profile is the one of the customer `sender`.
    fn is(&self, sender: &str) -> bool {
        self.wa_id.as_deref() == Some(sender) || self.user_id.as_deref() == Some(sender)
    }

    /// The identifiers worth keeping on the contact besides its WhatsApp id.
    fn attributes(&self) -> Value {
        let kept = [
            ("user_id", &self.user_id),
            ("parent_user_id", &self.parent_user_id),
            ("username", &self.profile.username),
        ];
        let attributes = kept
            .into_iter()
            .filter_map(|(key, value)| Some((key.to_owned(), Value::String(value.clone()?))))
            .collect();
        Value::Object(attributes)
    }
}

/// A customer's display name and username.
#[derive(Default, Deserialize)]
struct Profile {
    /// The name the customer gave WhatsApp.
    name: Option<String>,
    /// The customer's WhatsApp username, when they chose one.
    username: Option<String>,
}

/// One customer message.
#[derive(Deserialize)]
struct WireMessage {
    /// The sender's WhatsApp id.
    from: Option<String>,
    /// The sender's business-scoped user id.
    from_user_id: Option<String>,
    /// Meta's id for the message (`wamid....`).
    #[serde(default)]
    id: String,
    /// When it was sent.
    timestamp: Option<WireTimestamp>,
    /// What it says.
    #[serde(flatten)]
    body: MessageBody,
}

impl WireMessage {
    /// Who sent it: the WhatsApp id, or the business-scoped user id when there is no number.
    fn sender(&self) -> Option<&str> {
        [&self.from, &self.from_user_id]
            .into_iter()
            .filter_map(Option::as_deref)
            .find(|sender| !sender.is_empty())
    }
}

/// What a message says. Also the shape of the new version of an edited message.
#[derive(Deserialize)]
struct MessageBody {
    /// Which of the fields below holds the body.
    #[serde(rename = "type")]
    kind: Option<String>,
    /// The message this one quotes.
    context: Option<Context>,
    /// A text body.
    text: Option<Text>,
    /// A picture.
    image: Option<Media>,
    /// A sticker.
    sticker: Option<Media>,
    /// A video.
    video: Option<Media>,
    /// Sound or a voice note.
    audio: Option<Media>,
    /// Any other file.
    document: Option<Media>,
    /// A shared location.
    location: Option<Location>,
    /// Shared contact cards.
    contacts: Option<Vec<ContactCard>>,
    /// A reply to buttons or a list the business sent.
    interactive: Option<Interactive>,
    /// A tap on a template's quick-reply button.
    button: Option<QuickReply>,
    /// A reaction to an earlier message.
    reaction: Option<Reaction>,
    /// The ad or post that led the customer to write.
    referral: Option<Value>,
    /// Why Meta could not fill in the body.
    #[serde(default)]
    errors: Vec<WireError>,
    /// A new version of an earlier message.
    edit: Option<Edit>,
    /// The withdrawal of an earlier message.
    revoke: Option<Revoke>,
    /// A notice from WhatsApp itself.
    system: Option<System>,
}

/// The message a message quotes.
#[derive(Deserialize)]
struct Context {
    /// The quoted message's id.
    id: Option<String>,
}

/// A text body.
#[derive(Deserialize)]
struct Text {
    /// The text.
    body: Option<String>,
}

/// A media body: picture, sticker, video, sound or file.
#[derive(Deserialize)]
struct Media {
    /// Meta's media id, to download the file by.
    id: Option<String>,
    /// The MIME type.
    mime_type: Option<String>,
    /// The customer's caption.
    caption: Option<String>,
    /// The document's file name.
    filename: Option<String>,
    /// A download URL, when Meta includes one.
    url: Option<String>,
    /// The file's SHA-256, to check a download against.
    sha256: Option<String>,
    /// Whether a sound is a recorded voice note.
    #[serde(default)]
    voice: bool,
}

impl Media {
    /// An attachment of kind `file_type`, with the caption as content.
    fn to_mapped(&self, file_type: FileType) -> Mapped {
        let mut attachment = Attachment::new(file_type);
        attachment.provider_media_id = self.id.clone();
        attachment.content_type = self.mime_type.clone();
        attachment.file_name = self.filename.clone();
        attachment.data_url = self.url.clone();
        if let Some(sha256) = &self.sha256 {
            attachment.meta = json!({ "sha256": sha256 });
        }

        let mut mapped = Mapped::text(self.caption.clone());
        mapped.attachments.push(attachment);
        if self.voice {
            mapped.set("voice_note", true);
        }
        mapped
    }
}

/// A shared location.
#[derive(Deserialize)]
struct Location {
    /// Latitude in degrees.
    latitude: Option<f64>,
    /// Longitude in degrees.
    longitude: Option<f64>,
    /// The place's name.
    name: Option<String>,
    /// The place's address.
    address: Option<String>,
    /// A link to the place.
    url: Option<String>,
}

impl Location {
    /// A location attachment titled with the place's name, or its address.
    fn to_mapped(&self) -> Mapped {
        let mut attachment = Attachment::new(FileType::Location);
        attachment.coordinates_lat = self.latitude;
        attachment.coordinates_long = self.longitude;
        attachment.fallback_title = self.name.clone().or_else(|| self.address.clone());
        let details = [
            ("name", &self.name),
            ("address", &self.address),
            ("url", &self.url),
        ];
        let meta: Map<String, Value> = details
            .into_iter()
            .filter_map(|(key, value)| Some((key.to_owned(), Value::String(value.clone()?))))
            .collect();
        if !meta.is_empty() {
            attachment.meta = Value::Object(meta);
        }
        Mapped {
            attachments: vec![attachment],
            ..Mapped::default()
        }
    }
}

/// A shared contact card.
#[derive(Deserialize)]
struct ContactCard {
    /// The person's name.
    name: Option<CardName>,
    /// The person's numbers.
    #[serde(default)]
    phones: Vec<CardPhone>,
}

impl ContactCard {
    /// A contact attachment titled with the person's name, keeping their numbers.
    fn to_attachment(&self) -> Attachment {
        let mut attachment = Attachment::new(FileType::Contact);
        attachment.fallback_title = self.title();
        let phones: Vec<Value> = self.phones.iter().map(CardPhone::to_value).collect();
        attachment.meta = json!({ "phones": phones });
        attachment
    }

    /// The name to show: the formatted name, else first and last name, else the first number.
    fn title(&self) -> Option<String> {
        let name = self.name.as_ref();
        let formatted = name.and_then(|name| name.formatted_name.clone());
        let parts = name.map(|name| {
            let parts = [&name.first_name, &name.last_name];
            parts
                .into_iter()
                .flatten()
                .cloned()
                .collect::<Vec<_>>()
                .join(" ")
        });
        let first_phone = self.phones.first().and_then(|phone| phone.phone.clone());
        [formatted, parts, first_phone]
            .into_iter()
            .flatten()
            .find(|title| !title.is_empty())
    }
}

/// A contact card's name.
#[derive(Deserialize)]
struct CardName {
    /// The full name as the card shows it.
    formatted_name: Option<String>,
    /// The first name.
    first_name: Option<String>,
    /// The last name.
    last_name: Option<String>,
}

/// A number on a contact card.
#[derive(Deserialize)]
struct CardPhone {
    /// The number as written on the card.
    phone: Option<String>,
    /// The number's WhatsApp id, when it has one.
    wa_id: Option<String>,
    /// `CELL`, `HOME`, `WORK`...
    #[serde(rename = "type")]
    kind: Option<String>,
}

impl CardPhone {
    /// The number as kept in the attachment's `meta.phones`.
    fn to_value(&self) -> Value {
        let fields = [
            ("phone", &self.phone),
            ("wa_id", &self.wa_id),
            ("type", &self.kind),
        ];
        let phone = fields
            .into_iter()
            .filter_map(|(key, value)| Some((key.to_owned(), Value::String(value.clone()?))))
            .collect();
        Value::Object(phone)
    }
}

/// A reply to an interactive message the business sent.
#[derive(Deserialize)]
struct Interactive {
    /// The button the customer tapped.
    button_reply: Option<Choice>,
    /// The list row the customer picked.
    list_reply: Option<Choice>,
    /// The answers to a WhatsApp Flow.
    nfm_reply: Option<FlowReply>,
}

impl Interactive {
    /// The customer's choice or answers; `None` when Meta sent no reply at all.
    fn to_mapped(&self) -> Option<Mapped> {
        let choice = self.button_reply.as_ref().or(self.list_reply.as_ref());
        match (choice, &self.nfm_reply) {
            (Some(choice), _) => Some(choice.to_mapped()),
            (None, Some(flow)) => Some(flow.to_mapped()),
            (None, None) => None,
        }
    }
}

/// A tapped button or picked list row.
#[derive(Deserialize)]
struct Choice {
    /// The id the business gave the option.
    id: Option<String>,
    /// The option's text.
    title: Option<String>,
    /// The list row's description.
    description: Option<String>,
}

impl Choice {
    /// The option's title as content, and the option in `submitted_values`.
    fn to_mapped(&self) -> Mapped {
        let mut value = json!({ "title": self.title, "value": self.id });
        if let Some(description) = &self.description {
            value["description"] = json!(description);
        }
        Mapped::with(self.title.clone(), json!({ "submitted_values": [value] }))
    }
}

/// The answers to a WhatsApp Flow.
#[derive(Deserialize)]
struct FlowReply {
    /// The text WhatsApp shows for the reply.
    body: Option<String>,
    /// The flow's name.
    name: Option<String>,
    /// The answers, as a JSON document in a string.
    response_json: Option<String>,
}

impl FlowReply {
    /// The reply's text as content, and the answers in `submitted_values`.
    fn to_mapped(&self) -> Mapped {
        let answers = self.response_json.as_deref().map(|answers| {
            serde_json::from_str(answers).unwrap_or_else(|_| Value::String(answers.to_owned()))
        });
        let value = json!({ "name": self.name, "value": answers });
        Mapped::with(self.body.clone(), json!({ "submitted_values": [value] }))
    }
}

/// A tap on a template's quick-reply button.
#[derive(Deserialize)]
struct QuickReply {
    /// The button's text.
    text: Option<String>,
    /// The payload the business gave the button.
    payload: Option<String>,
}

impl QuickReply {
    /// The button's text as content, and the button in `submitted_values`.
    fn to_mapped(&self) -> Mapped {
        let value = json!({ "title": self.text, "value": self.payload });
        Mapped::with(self.text.clone(), json!({ "submitted_values": [value] }))
    }
}

/// A reaction to an earlier message.
#[derive(Deserialize)]
struct Reaction {
    /// The message reacted to.
    message_id: Option<String>,
    /// The emoji; empty when the customer took their reaction back.
    emoji: Option<String>,
}

impl Reaction {
    /// The emoji as content, pointing at the message reacted to.
    fn to_mapped(&self) -> Mapped {
        let emoji = self.emoji.clone().filter(|emoji| !emoji.is_empty());
        let mut mapped = Mapped::with(emoji, json!({ "reaction": true }));
        if mapped.content.is_none() {
            mapped.set("deleted", true);
        }
        if let Some(message_id) = &self.message_id {
            mapped.set("in_reply_to_external_id", message_id.as_str());
        }
        mapped
    }
}

/// A new version of an earlier message.
#[derive(Deserialize)]
struct Edit {
    /// The message edited.
    original_message_id: Option<String>,
    /// Its new version.
    message: Option<Box<MessageBody>>,
}

impl Edit {
    /// The new version, as a message of its own marked as an edit of the original.
    fn to_mapped(&self, change_errors: &[WireError]) -> Mapped {
        let mut mapped = match &self.message {
            Some(body) => map_body(body, change_errors),
            None => Mapped::unsupported(change_errors.first()),
        };
        mapped.set("edited", true);
        if let Some(original) = &self.original_message_id {
            mapped.set("original_message_id", original.as_str());
        }
        mapped
    }
}

/// The withdrawal of an earlier message.
#[derive(Deserialize)]
struct Revoke {
    /// The message withdrawn.
    original_message_id: Option<String>,
}

impl Revoke {
    /// A message with no content marking the original as deleted.
    fn to_mapped(&self) -> Mapped {
        let mut mapped = Mapped::with(None, json!({ "deleted": true }));
        if let Some(original) = &self.original_message_id {
            mapped.set("original_message_id", original.as_str());
        }
        mapped
    }
}

/// A notice from WhatsApp itself (the customer's identity or number changed...).
#[derive(Deserialize)]
struct System {
    /// The notice's text.
    body: Option<String>,
}

impl System {
    /// The notice's text, marked as coming from the system.
    fn to_mapped(&self) -> Mapped {
        Mapped::with(self.body.clone(), json!({ "system": true }))
    }
}

/// An error Meta attaches to a message, a change or a delivery report.
#[derive(Deserialize)]
struct WireError {
    /// Meta's error code.
    code: Option<i64>,
    /// A short title.
    title: Option<String>,
    /// A longer message.
    message: Option<String>,
}

impl WireError {
    /// `"<code>: <title>"`, as kept in `external_error`.
    fn describe(&self) -> String {
        let title = self
            .title
            .as_deref()
            .or(self.message.as_deref())
            .unwrap_or("unknown error");
        match self.code {
            Some(code) => format!("{code}: {title}"),
            None => title.to_owned(),
        }
    }
}

/// A report on a message the business sent.
#[derive(Deserialize)]
struct WireStatus {
    /// Meta's id for the message.
    id: String,
    /// `sent`, `delivered`, `read`, `failed`, or a status that is not a delivery step.
    status: String,
    /// When it happened.
    timestamp: Option<WireTimestamp>,
    /// Why delivery failed.
    #[serde(default)]
    errors: Vec<WireError>,
}

/// Unix seconds, which Meta writes as a string but which is accepted as a number too.
#[derive(Deserialize)]
#[serde(untagged)]
enum WireTimestamp {
    /// `"1697043223"`.
    Text(String),
    /// `1697043223`.
    Number(i64),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::whatsapp::corpus;
    use std::collections::BTreeSet;

    /// The phone number id of the business in most corpus files.
    const NUMBER_ID: &str = "1122334455667";

    /// What a corpus file must give.
    #[derive(Debug)]
    enum Outcome {
        /// This many messages and no reports.
        Messages(usize),
        /// This many reports and no messages.
        Statuses(usize),
        /// A refusal: the body belongs to another number.
        OtherNumber,
    }

    /// Every corpus file and what it must give for the inbox `NUMBER_ID`.
    const EXPECTED: [(&str, Outcome); 22] = [
        ("pywa_callback_button__button.json", Outcome::Messages(1)),
        (
            "pywa_callback_button__quick_reply.json",
            Outcome::Messages(1),
        ),
        (
            "pywa_callback_selection__callback.json",
            Outcome::Messages(1),
        ),
        ("pywa_deleted_message__revoke.json", Outcome::OtherNumber),
        ("pywa_edited_message__image.json", Outcome::OtherNumber),
        ("pywa_message__contacts.json", Outcome::Messages(1)),
        ("pywa_message__current_location.json", Outcome::Messages(1)),
        ("pywa_message__document.json", Outcome::Messages(1)),
        ("pywa_message__image.json", Outcome::Messages(1)),
        (
            "pywa_message__interactive_message_with_err.json",
            Outcome::Messages(1),
        ),
        ("pywa_message__reaction.json", Outcome::Messages(1)),
        ("pywa_message__referral.json", Outcome::Messages(1)),
        ("pywa_message__reply.json", Outcome::Messages(1)),
        ("pywa_message__text.json", Outcome::Messages(1)),
        ("pywa_message__unreaction_empty.json", Outcome::Messages(1)),
        ("pywa_message__unsupported.json", Outcome::Messages(1)),
        ("pywa_message__voice.json", Outcome::Messages(1)),
        ("pywa_message_status__failed.json", Outcome::Statuses(1)),
        ("pywa_message_status__group.json", Outcome::OtherNumber),
        ("pywa_message_status__read.json", Outcome::Statuses(1)),
        ("pywa_message_status__sent.json", Outcome::Statuses(1)),
        ("pywa_system__identity_change.json", Outcome::Messages(1)),
    ];

    /// Parses a corpus file for the inbox `number_id`.
    fn parse_file(file: &str, number_id: &str) -> Result<WebhookBatch, PayloadError> {
        parse(&corpus::read("whatsapp_cloud", file), number_id)
    }

    /// The one message a corpus file carries for the inbox `NUMBER_ID`.
    fn only_message(file: &str) -> InboundMessage {
        let batch = parse_file(file, NUMBER_ID).unwrap();
        assert_eq!(batch.messages.len(), 1, "{file}");
        batch.messages.into_iter().next().unwrap()
    }

    /// The one report a corpus file carries for the inbox `NUMBER_ID`.
    fn only_status(file: &str) -> StatusReport {
        let batch = parse_file(file, NUMBER_ID).unwrap();
        assert_eq!(batch.statuses.len(), 1, "{file}");
        batch.statuses.into_iter().next().unwrap()
    }

    /// A body with one `messages` change for `NUMBER_ID` holding `value`'s fields.
    fn notification(value: Value) -> Vec<u8> {
        let mut value = value;
        value["metadata"] = json!({ "display_phone_number": "972123456789",
                                    "phone_number_id": NUMBER_ID });
        let body = json!({
            "object": "whatsapp_business_account",
            "entry": [{ "id": "1", "changes": [{ "field": "messages", "value": value }] }],
        });
        serde_json::to_vec(&body).unwrap()
    }

    /// A body with one customer message, `message`, by default from 972987654321.
    fn one_message(message: Value) -> Vec<u8> {
        let mut message = message;
        let defaults = [
            ("from", "972987654321"),
            ("id", "wamid.synthetic"),
            ("timestamp", "1"),
        ];
        if let Value::Object(fields) = &mut message {
            for (key, value) in defaults {
                fields.entry(key).or_insert(json!(value));
            }
        }
        notification(json!({ "messages": [message] }))
    }

    #[test]
    fn every_corpus_file_has_an_expected_outcome() {
        let dir = corpus::dir("whatsapp_cloud");
        let on_disk: BTreeSet<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        let expected: BTreeSet<String> = EXPECTED
            .iter()
            .map(|(file, _)| (*file).to_owned())
            .collect();

        assert_eq!(
            on_disk, expected,
            "corpus files in {dir:?} and EXPECTED differ"
        );
    }

    #[test]
    fn every_corpus_file_gives_its_expected_outcome() {
        for (file, outcome) in &EXPECTED {
            let result = parse_file(file, NUMBER_ID);

            let met = match (outcome, &result) {
                (Outcome::Messages(count), Ok(batch)) => {
                    batch.messages.len() == *count && batch.statuses.is_empty()
                }
                (Outcome::Statuses(count), Ok(batch)) => {
                    batch.statuses.len() == *count && batch.messages.is_empty()
                }
                (Outcome::OtherNumber, Err(PayloadError::OtherNumber { .. })) => true,
                _ => false,
            };
            assert!(met, "{file}: expected {outcome:?}, got {result:?}");
        }
    }

    #[test]
    fn a_text_message_becomes_incoming_text_from_its_sender() {
        let message = only_message("pywa_message__text.json");

        assert_eq!(message.content.as_deref(), Some("Body Text"));
        assert_eq!(message.content_type, ContentType::Text);
        assert_eq!(message.source_id.as_deref(), Some("wamid.xyzxyz"));
        assert_eq!(
            message.sent_at,
            Some(Timestamp::from_unix_seconds(1697043223))
        );
        assert_eq!(message.content_attributes, json!({}));
        assert!(message.attachments.is_empty());
        assert_eq!(message.echo_id, None);
    }

    #[test]
    fn the_sender_profile_comes_from_the_matching_contact() {
        let message = only_message("pywa_message__text.json");

        assert_eq!(
            message.contact,
            ContactProfile {
                source_id: "972987654321".to_owned(),
                name: Some("Test Name".to_owned()),
                phone_number: Some("+972987654321".to_owned()),
                email: None,
                identifier: None,
                additional_attributes: json!({
                    "user_id": "US.13491208655302741918",
                    "parent_user_id": "US.ENT.11815799212886844830",
                }),
            }
        );
    }

    #[test]
    fn a_sender_without_a_profile_is_named_by_their_number() {
        let body = one_message(json!({ "type": "text", "text": { "body": "hi" } }));

        let batch = parse(&body, NUMBER_ID).unwrap();

        let contact = &batch.messages[0].contact;
        assert_eq!(contact.name.as_deref(), Some("972987654321"));
        assert_eq!(contact.additional_attributes, json!({}));
    }

    #[test]
    fn an_image_becomes_an_image_attachment_to_download_by_media_id() {
        let message = only_message("pywa_message__image.json");

        let mut expected = Attachment::new(FileType::Image);
        expected.provider_media_id = Some("65463453".to_owned());
        expected.content_type = Some("image/jpeg".to_owned());
        expected.meta = json!({ "sha256": "4654+8g=" });
        assert_eq!(message.attachments, vec![expected]);
        assert_eq!(message.content, None);
    }

    #[test]
    fn a_document_keeps_its_file_name_and_its_caption_becomes_content() {
        let message = only_message("pywa_message__document.json");

        let attachment = &message.attachments[0];
        assert_eq!(attachment.file_type, FileType::File);
        assert_eq!(attachment.file_name.as_deref(), Some("filename.pdf"));
        assert_eq!(attachment.content_type.as_deref(), Some("application/pdf"));
        assert_eq!(message.content.as_deref(), Some("caption"));
    }

    #[test]
    fn a_voice_note_is_an_audio_attachment_marked_as_a_voice_note() {
        let message = only_message("pywa_message__voice.json");

        assert_eq!(message.attachments[0].file_type, FileType::Audio);
        assert_eq!(
            message.attachments[0].content_type.as_deref(),
            Some("audio/ogg; codecs=opus")
        );
        assert_eq!(message.content_attributes, json!({ "voice_note": true }));
    }

    #[test]
    fn videos_and_stickers_become_video_and_image_attachments() {
        let cases = [("video", FileType::Video), ("sticker", FileType::Image)];

        for (kind, file_type) in cases {
            let mut message = json!({ "type": kind });
            message[kind] = json!({ "id": "987", "mime_type": "x/y" });
            let batch = parse(&one_message(message), NUMBER_ID).unwrap();

            let attachment = &batch.messages[0].attachments[0];
            assert_eq!(attachment.file_type, file_type, "{kind}");
            assert_eq!(
                attachment.provider_media_id.as_deref(),
                Some("987"),
                "{kind}"
            );
        }
    }

    #[test]
    fn a_location_becomes_a_location_attachment_with_its_coordinates() {
        let message = only_message("pywa_message__current_location.json");

        let mut expected = Attachment::new(FileType::Location);
        expected.coordinates_lat = Some(12.25089);
        expected.coordinates_long = Some(43.90539);
        assert_eq!(message.attachments, vec![expected]);
    }

    #[test]
    fn a_named_place_is_titled_with_its_name() {
        let location = json!({ "latitude": 1.5, "longitude": 2.5, "name": "Cafe",
                               "address": "1 Main St" });
        let body = one_message(json!({ "type": "location", "location": location }));

        let batch = parse(&body, NUMBER_ID).unwrap();

        let attachment = &batch.messages[0].attachments[0];
        assert_eq!(attachment.fallback_title.as_deref(), Some("Cafe"));
        assert_eq!(
            attachment.meta,
            json!({ "name": "Cafe", "address": "1 Main St" })
        );
    }

    #[test]
    fn each_shared_contact_card_becomes_a_contact_attachment() {
        let message = only_message("pywa_message__contacts.json");

        let titles: Vec<_> = message
            .attachments
            .iter()
            .map(|card| card.fallback_title.as_deref())
            .collect();
        assert_eq!(
            titles,
            [Some("Chandler Bing"), Some("Monica"), Some("Rachel Green")]
        );
        assert!(
            message
                .attachments
                .iter()
                .all(|card| card.file_type == FileType::Contact)
        );
        assert_eq!(
            message.attachments[0].meta,
            json!({ "phones": [{ "phone": "+1 555-555-5555", "wa_id": "972987654321",
                                 "type": "CELL" }] })
        );
    }

    #[test]
    fn a_reaction_is_its_emoji_pointing_at_the_message_reacted_to() {
        let message = only_message("pywa_message__reaction.json");

        assert_eq!(message.content.as_deref(), Some("😮"));
        assert_eq!(
            message.content_attributes,
            json!({ "reaction": true, "in_reply_to_external_id": "wamid.yzxyzx=" })
        );
    }

    #[test]
    fn an_empty_reaction_means_the_reaction_was_taken_back() {
        let message = only_message("pywa_message__unreaction_empty.json");

        assert_eq!(message.content, None);
        assert_eq!(
            message.content_attributes,
            json!({ "reaction": true, "deleted": true,
                    "in_reply_to_external_id": "wamid.yzxyzx=" })
        );
    }

    #[test]
    fn a_quoted_reply_names_the_quoted_message() {
        let message = only_message("pywa_message__reply.json");

        assert_eq!(message.content.as_deref(), Some("replied text"));
        assert_eq!(
            message.content_attributes,
            json!({ "in_reply_to_external_id": "wamid.xyzxyz==" })
        );
    }

    #[test]
    fn the_ad_that_started_a_chat_is_kept_whole() {
        let message = only_message("pywa_message__referral.json");

        assert_eq!(message.content.as_deref(), Some("BODY"));
        let referral = &message.content_attributes["referral"];
        assert_eq!(referral["source_id"], "ADID");
        assert_eq!(referral["ctwa_clid"], "CTWA_CLID");
    }

    #[test]
    fn an_unsupported_message_has_no_content_and_keeps_metas_error() {
        let message = only_message("pywa_message__unsupported.json");

        assert_eq!(message.content, None);
        assert_eq!(
            message.content_attributes,
            json!({ "is_unsupported": true, "external_error": "131051: Message type unknown" })
        );
    }

    #[test]
    fn an_interactive_message_without_a_reply_takes_the_error_of_its_change() {
        let message = only_message("pywa_message__interactive_message_with_err.json");

        assert_eq!(message.content, None);
        assert_eq!(
            message.content_attributes,
            json!({ "is_unsupported": true, "external_error": "131000: Something went wrong",
                    "in_reply_to_external_id": "wamid.gvwegfretge==" })
        );
    }

    #[test]
    fn a_tapped_button_is_its_title_with_the_button_id_submitted() {
        let message = only_message("pywa_callback_button__button.json");

        assert_eq!(message.content.as_deref(), Some("title"));
        assert_eq!(
            message.content_attributes,
            json!({ "submitted_values": [{ "title": "title", "value": "callback_data" }],
                    "in_reply_to_external_id": "wamid.xyzxyz" })
        );
    }

    #[test]
    fn a_picked_list_row_is_its_title_with_the_row_id_submitted() {
        let message = only_message("pywa_callback_selection__callback.json");

        assert_eq!(message.content.as_deref(), Some("title"));
        assert_eq!(
            message.content_attributes["submitted_values"],
            json!([{ "title": "title", "value": "callback_data" }])
        );
    }

    #[test]
    fn a_template_quick_reply_is_its_text_with_the_payload_submitted() {
        let message = only_message("pywa_callback_button__quick_reply.json");

        assert_eq!(message.content.as_deref(), Some("title"));
        assert_eq!(
            message.content_attributes,
            json!({ "submitted_values": [{ "title": "title", "value": "callback_data" }],
                    "in_reply_to_external_id": "wamid.xyzxyz==" })
        );
    }

    #[test]
    fn flow_answers_are_submitted_as_json() {
        let reply = json!({ "name": "flow", "body": "Sent", "response_json": "{\"size\":\"M\"}" });
        let interactive = json!({ "type": "nfm_reply", "nfm_reply": reply });
        let body = one_message(json!({ "type": "interactive", "interactive": interactive }));

        let batch = parse(&body, NUMBER_ID).unwrap();

        let message = &batch.messages[0];
        assert_eq!(message.content.as_deref(), Some("Sent"));
        assert_eq!(
            message.content_attributes["submitted_values"],
            json!([{ "name": "flow", "value": { "size": "M" } }])
        );
    }

    #[test]
    fn an_edit_for_another_number_is_refused() {
        let result = parse_file("pywa_edited_message__image.json", NUMBER_ID);

        assert_eq!(
            result,
            Err(PayloadError::OtherNumber {
                phone_number_id: "106540352242922".to_owned()
            })
        );
    }

    #[test]
    fn an_edit_is_a_new_message_with_the_new_content_naming_the_original() {
        let batch = parse_file("pywa_edited_message__image.json", "106540352242922").unwrap();

        let message = &batch.messages[0];
        assert_eq!(message.content.as_deref(), Some("Updated image caption"));
        assert_eq!(
            message.attachments[0].data_url.as_deref(),
            Some("https://media.example.com/updated-image.jpg")
        );
        assert_eq!(
            message.content_attributes,
            json!({
                "edited": true,
                "original_message_id":
                    "wamid.HBgLMTQxMjU1NTA4MjkVAgASGBQzQUNCNjk5RDUwNUZGMUZEM0VBRAA=",
                "in_reply_to_external_id": "M0",
            })
        );
        assert_eq!(message.contact.name.as_deref(), Some("16505551234"));
    }

    #[test]
    fn a_revoke_marks_the_original_message_deleted() {
        let batch = parse_file(
            "pywa_deleted_message__revoke.json",
            "<BUSINESS_PHONE_NUMBER_ID>",
        )
        .unwrap();

        let message = &batch.messages[0];
        assert_eq!(message.content, None);
        assert_eq!(
            message.content_attributes,
            json!({ "deleted": true, "original_message_id": "<ORIGINAL_WHATSAPP_MESSAGE_ID>" })
        );
        assert_eq!(
            message.contact.phone_number, None,
            "a placeholder is not a phone number"
        );
    }

    #[test]
    fn a_system_notice_is_its_text_marked_as_system() {
        let message = only_message("pywa_system__identity_change.json");

        assert_eq!(message.content.as_deref(), Some("User identity changed"));
        assert_eq!(message.content_attributes, json!({ "system": true }));
        assert_eq!(message.contact.name.as_deref(), Some("User A"));
    }

    #[test]
    fn a_message_type_from_the_future_is_accepted_as_unsupported() {
        let body = one_message(json!({ "type": "hologram", "hologram": { "depth": 3 } }));

        let batch = parse(&body, NUMBER_ID).unwrap();

        assert_eq!(batch.messages[0].content, None);
        assert_eq!(
            batch.messages[0].content_attributes,
            json!({ "is_unsupported": true })
        );
    }

    #[test]
    fn a_text_message_without_its_text_is_unsupported() {
        let body = one_message(json!({ "type": "text" }));

        let batch = parse(&body, NUMBER_ID).unwrap();

        assert_eq!(
            batch.messages[0].content_attributes,
            json!({ "is_unsupported": true })
        );
    }

    #[test]
    fn each_delivery_status_becomes_a_report() {
        let statuses = ["sent", "delivered", "read", "failed"];

        for status in statuses {
            let report = json!({ "id": "wamid.out", "status": status, "timestamp": "1689380458",
                                 "recipient_id": "972987654321" });
            let batch = parse(&notification(json!({ "statuses": [report] })), NUMBER_ID).unwrap();

            assert_eq!(
                batch.statuses,
                [StatusReport {
                    source_id: "wamid.out".to_owned(),
                    status: MessageStatus::parse(status).unwrap(),
                    error: None,
                    at: Some(Timestamp::from_unix_seconds(1689380458)),
                }]
            );
        }
    }

    #[test]
    fn the_corpus_reports_sent_and_read() {
        assert_eq!(
            only_status("pywa_message_status__sent.json").status,
            MessageStatus::Sent
        );
        assert_eq!(
            only_status("pywa_message_status__read.json").status,
            MessageStatus::Read
        );
    }

    #[test]
    fn a_failed_report_carries_metas_error() {
        let report = only_status("pywa_message_status__failed.json");

        assert_eq!(report.status, MessageStatus::Failed);
        assert_eq!(
            report.error.as_deref(),
            Some("130472: User's number is part of an experiment")
        );
        assert_eq!(report.at, Some(Timestamp::from_unix_seconds(1689380458)));
    }

    #[test]
    fn statuses_that_are_not_delivery_steps_are_skipped() {
        let reports = json!([
            { "id": "wamid.a", "status": "deleted", "timestamp": "1689380458" },
            { "id": "wamid.b", "status": "warning", "timestamp": "1689380458" },
            { "id": "wamid.c", "status": "delivered", "timestamp": "1689380458" },
        ]);

        let batch = parse(&notification(json!({ "statuses": reports })), NUMBER_ID).unwrap();

        let ids: Vec<_> = batch
            .statuses
            .iter()
            .map(|report| report.source_id.as_str())
            .collect();
        assert_eq!(ids, ["wamid.c"]);
    }

    #[test]
    fn a_group_report_for_its_own_number_is_read() {
        let batch = parse_file(
            "pywa_message_status__group.json",
            "<BUSINESS_PHONE_NUMBER_ID>",
        )
        .unwrap();

        assert_eq!(batch.statuses[0].status, MessageStatus::Read);
    }

    #[test]
    fn malformed_json_is_refused_with_the_parsers_explanation() {
        let result = parse(
            br#"{"object": "whatsapp_business_account", "entry": [}"#,
            NUMBER_ID,
        );

        let Err(PayloadError::Json { message }) = result else {
            panic!("expected a JSON error, got {result:?}");
        };
        assert!(message.contains("line 1 column"), "{message}");
    }

    #[test]
    fn an_empty_body_is_malformed_json() {
        assert!(matches!(
            parse(b"", NUMBER_ID),
            Err(PayloadError::Json { .. })
        ));
    }

    #[test]
    fn a_notification_about_a_page_is_refused_as_the_wrong_object() {
        let body = br#"{"object":"page","entry":[{"id":"1","messaging":[]}]}"#;

        let error = parse(body, NUMBER_ID).unwrap_err();

        assert_eq!(
            error,
            PayloadError::WrongObject {
                object: "page".to_owned()
            }
        );
        assert_eq!(
            error.to_string(),
            "the notification's object is `page`, expected `whatsapp_business_account`"
        );
    }

    #[test]
    fn json_of_another_shape_is_refused_saying_where() {
        let bodies: [&[u8]; 3] = [
            br#"[1, 2, 3]"#,
            br#"{"entry": []}"#,
            br#"{"object":"whatsapp_business_account","entry":[{"changes":[
                {"field":"messages","value":{"metadata":{"phone_number_id":"1122334455667"},
                 "messages":[{"id":"wamid.x","from":"1","type":"text","text":{"body":7}}]}}]}]}"#,
        ];

        for body in bodies {
            let result = parse(body, NUMBER_ID);

            assert!(
                matches!(result, Err(PayloadError::Shape { .. })),
                "{result:?}"
            );
        }
    }

    #[test]
    fn a_messages_change_without_metadata_is_refused() {
        let body = br#"{"object":"whatsapp_business_account",
            "entry":[{"changes":[{"field":"messages","value":{"messages":[]}}]}]}"#;

        let error = parse(body, NUMBER_ID).unwrap_err();

        assert_eq!(
            error.to_string(),
            "the body is not a WhatsApp webhook notification: \
             entry[0].changes[0].value: missing field `metadata`"
        );
    }

    #[test]
    fn changes_to_other_fields_are_ignored_whatever_their_shape() {
        let body = json!({
            "object": "whatsapp_business_account",
            "entry": [{ "changes": [
                { "field": "message_template_status_update",
                  "value": { "event": "APPROVED", "metadata": 12 } },
            ] }],
        });

        let batch = parse(&serde_json::to_vec(&body).unwrap(), NUMBER_ID).unwrap();

        assert_eq!(batch, WebhookBatch::default());
    }

    #[test]
    fn a_change_without_a_field_is_read_as_messages() {
        let value = json!({ "metadata": { "phone_number_id": NUMBER_ID },
                            "messages": [{ "from": "1", "id": "wamid.x", "type": "text",
                                           "text": { "body": "hi" } }] });
        let body = json!({ "object": "whatsapp_business_account",
                           "entry": [{ "changes": [{ "value": value }] }] });

        let batch = parse(&serde_json::to_vec(&body).unwrap(), NUMBER_ID).unwrap();

        assert_eq!(batch.messages[0].content.as_deref(), Some("hi"));
    }

    #[test]
    fn every_other_corpus_file_is_refused_without_a_panic() {
        let root = corpus::dir("");
        let mut files = vec![root.clone()];
        let mut checked = 0;

        while let Some(path) = files.pop() {
            if path.is_dir() {
                if path
                    .file_name()
                    .is_some_and(|name| name == "whatsapp_cloud")
                {
                    continue;
                }
                let entries = std::fs::read_dir(&path).unwrap();
                files.extend(entries.map(|entry| entry.unwrap().path()));
                continue;
            }
            let result = parse(&std::fs::read(&path).unwrap(), NUMBER_ID);

            assert!(result.is_err(), "{path:?} was accepted: {result:?}");
            checked += 1;
        }
        assert!(checked > 0, "no corpus file under {root:?}");
    }

    #[test]
    fn a_body_with_one_change_for_another_number_is_refused_whole() {
        let mine = json!({ "metadata": { "phone_number_id": NUMBER_ID },
                           "messages": [{ "from": "1", "id": "wamid.mine", "type": "text",
                                          "text": { "body": "hi" }, "timestamp": "1" }] });
        let theirs = json!({ "metadata": { "phone_number_id": "999" }, "messages": [] });
        let body = json!({
            "object": "whatsapp_business_account",
            "entry": [{ "changes": [
                { "field": "messages", "value": mine },
                { "field": "messages", "value": theirs },
            ] }],
        });

        let result = parse(&serde_json::to_vec(&body).unwrap(), NUMBER_ID);

        assert_eq!(
            result,
            Err(PayloadError::OtherNumber {
                phone_number_id: "999".to_owned()
            })
        );
        assert_eq!(
            result.unwrap_err().to_string(),
            "the change for phone_number_id `999` belongs to another number"
        );
    }

    #[test]
    fn a_timestamp_that_is_not_a_number_is_refused_saying_where() {
        let message = json!({ "type": "text", "text": { "body": "hi" }, "timestamp": "<TIME>" });

        let error = parse(&one_message(message), NUMBER_ID).unwrap_err();

        assert_eq!(
            error.to_string(),
            "entry[0].changes[0].value.messages[0]: \
             timestamp `<TIME>` is not a Unix time in seconds between 1970 and 9999"
        );
    }

    #[test]
    fn a_timestamp_beyond_the_year_9999_or_before_1970_is_refused() {
        for timestamp in [json!("9000000000000000"), json!(-99999999999_i64)] {
            let message =
                json!({ "type": "text", "text": { "body": "hi" }, "timestamp": timestamp });

            let result = parse(&one_message(message), NUMBER_ID);

            assert!(
                matches!(result, Err(PayloadError::BadTimestamp { .. })),
                "{result:?}"
            );
        }
    }

    #[test]
    fn a_bad_timestamp_in_a_report_is_refused_too() {
        let report = json!({ "id": "wamid.out", "status": "deleted", "timestamp": "soon" });

        let result = parse(&notification(json!({ "statuses": [report] })), NUMBER_ID);

        assert!(
            matches!(result, Err(PayloadError::BadTimestamp { .. })),
            "{result:?}"
        );
    }

    #[test]
    fn a_numeric_timestamp_is_accepted() {
        let message = json!({ "type": "text", "text": { "body": "hi" }, "timestamp": 1697043223 });

        let batch = parse(&one_message(message), NUMBER_ID).unwrap();

        assert_eq!(
            batch.messages[0].sent_at,
            Some(Timestamp::from_unix_seconds(1697043223))
        );
    }

    #[test]
    fn a_message_without_a_sender_is_refused() {
        let message = json!({ "id": "wamid.x", "type": "text", "text": { "body": "hi" } });

        let error = parse(&notification(json!({ "messages": [message] })), NUMBER_ID).unwrap_err();

        assert_eq!(
            error.to_string(),
            "entry[0].changes[0].value.messages[0]: \
             the message has no sender (`from` or `from_user_id`)"
        );
    }

    #[test]
    fn a_sender_known_only_by_user_id_has_no_phone_number() {
        let contact = json!({ "profile": { "name": "Ana" }, "user_id": "US.42" });
        let message = json!({ "from_user_id": "US.42", "id": "wamid.x", "type": "text",
                              "text": { "body": "hi" } });

        let batch = parse(
            &notification(json!({ "contacts": [contact], "messages": [message] })),
            NUMBER_ID,
        )
        .unwrap();

        let contact = &batch.messages[0].contact;
        assert_eq!(contact.source_id, "US.42");
        assert_eq!(contact.name.as_deref(), Some("Ana"));
        assert_eq!(contact.phone_number, None);
        assert_eq!(batch.messages[0].sent_at, None);
    }
}
