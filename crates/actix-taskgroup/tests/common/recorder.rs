//! A `tracing` subscriber that records every event with its fields and its span's group, for
//! the observability tests (no subscriber crate needed).

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

/// One recorded event.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub level: Level,
    pub message: String,
    pub fields: BTreeMap<String, String>,
    /// The `name` field of the span the event belongs to (its group's span).
    pub span: Option<String>,
    /// The chain of span names from the root, for nesting checks.
    pub span_path: Vec<String>,
}

impl Recorded {
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields.get(name).map(String::as_str)
    }
}

#[derive(Default)]
struct Spans {
    /// Span id → (group name, parent id).
    names: BTreeMap<u64, (String, Option<u64>)>,
}

#[derive(Clone, Default)]
pub struct Recorder {
    events: Arc<Mutex<Vec<Recorded>>>,
    spans: Arc<Mutex<Spans>>,
    next: Arc<AtomicU64>,
    /// The spans entered now, innermost last (the tests run on one thread).
    entered: Arc<Mutex<Vec<u64>>>,
}

impl Recorder {
    pub fn events(&self) -> Vec<Recorded> {
        self.events.lock().unwrap().clone()
    }

    /// The events about the child named `child`, as "message" strings.
    pub fn of_child(&self, child: &str) -> Vec<String> {
        self.events()
            .into_iter()
            .filter(|e| e.field("child") == Some(child))
            .map(|e| e.message)
            .collect()
    }
}

struct Fields<'a>(&'a mut BTreeMap<String, String>);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
}

impl Subscriber for Recorder {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }

    fn new_span(&self, span: &Attributes<'_>) -> Id {
        let id = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        let mut fields = BTreeMap::new();
        span.record(&mut Fields(&mut fields));
        let parent = match span.parent() {
            Some(parent) => Some(parent.into_u64()),
            None if span.is_contextual() => self.entered.lock().unwrap().last().copied(),
            None => None,
        };
        let name = fields.remove("name").unwrap_or_default();
        self.spans.lock().unwrap().names.insert(id, (name, parent));
        Id::from_u64(id)
    }

    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let mut fields = BTreeMap::new();
        event.record(&mut Fields(&mut fields));
        let message = fields.remove("message").unwrap_or_default();
        let spans = self.spans.lock().unwrap();
        let mut span_path = Vec::new();
        let mut cursor = event.parent().map(Id::into_u64);
        while let Some(id) = cursor {
            match spans.names.get(&id) {
                Some((name, parent)) => {
                    span_path.insert(0, name.clone());
                    cursor = *parent;
                }
                None => break,
            }
        }
        drop(spans);
        self.events.lock().unwrap().push(Recorded {
            level: *event.metadata().level(),
            message,
            fields,
            span: span_path.last().cloned(),
            span_path,
        });
    }

    fn enter(&self, span: &Id) {
        self.entered.lock().unwrap().push(span.into_u64());
    }

    fn exit(&self, span: &Id) {
        let mut entered = self.entered.lock().unwrap();
        if let Some(at) = entered.iter().rposition(|id| *id == span.into_u64()) {
            entered.remove(at);
        }
    }
}
