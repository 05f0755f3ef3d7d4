//! The document's value as one arena, read in place by the schema check and by serde.
//!
//! A `serde_json::Value` costs, for every mapping, a hash table (SipHash over each key, as
//! serde_json fixes the hasher) and two allocations to build it, and as much again to free it.
//! Yet a valid file's value is only ever walked twice, once by the schema check and once by
//! serde. So the reader builds this instead: every node in one vector, each mapping's entries
//! and each sequence's items in a run of a shared vector, found by index; keys are compared,
//! never hashed, as real mappings hold a handful of keys. It makes `render` measurably cheaper
//! (BENCHMARKS.md).
//!
//! - The schema check reads it through jsonschema's [`Json`] representation trait ([`Tree`]
//!   is the representation, [`NodeRef`] its node).
//! - serde reads it through [`NodeRef`]'s `Deserializer`, which follows serde_json's own
//!   `&Value` deserializer step for step, so a definition reads the same either way (its
//!   errors are serde_json's).
//! - A `Value` is built from it only when someone needs one ([`NodeRef::to_value`]): the
//!   diagnostics of a bad file and the language server.
//!
//! An alias shares the anchored node instead of copying it. Nothing can refer to a node before
//! it is complete, so the tree is a DAG and never a cycle.

use std::borrow::Cow;
use std::fmt;

use jsonschema::json::{Array, Json, NodeIdentity, Object, cmp};
use jsonschema::types::JsonType;
use serde::de::{self, DeserializeSeed, Deserializer, Visitor};
use serde::forward_to_deserialize_any;
use serde_json::{Map, Number, Value};

use super::scalar::Scalar;

/// A document's nodes. Built by the reader ([`super::builder`]), then read only.
#[derive(Debug, Clone, Default)]
pub(crate) struct Tree {
    /// Every node, children before the container that holds them.
    items: Vec<Item>,
    /// The entries of every mapping, each mapping's in one run, in the order written.
    members: Vec<(String, u32)>,
    /// The items of every sequence, each sequence's in one run, in the order written.
    elements: Vec<u32>,
    /// The document's top node.
    root: u32,
}

/// One node.
#[derive(Debug, Clone)]
enum Item {
    Null,
    Bool(bool),
    Number(Number),
    String(String),
    /// A sequence: its items are `elements[run]`.
    Array(Run),
    /// A mapping: its entries are `members[run]`.
    Object(Run),
}

/// A run of a shared vector: `start..start + len`.
#[derive(Debug, Clone, Copy)]
struct Run {
    start: u32,
    len: u32,
}

impl Run {
    fn range(self) -> std::ops::Range<usize> {
        self.start as usize..(self.start + self.len) as usize
    }
}

/// Converts a count the reader's limits keep far below `u32::MAX` (`MAX_NODES`).
fn index(count: usize) -> u32 {
    u32::try_from(count).expect("the reader's node limit keeps indices within u32")
}

impl Tree {
    /// An empty tree with room for a document of `text_len` bytes. Definitions hold about one
    /// node per 30 bytes and one mapping entry per 40, so the vectors rarely grow (growing
    /// them was a measurable cost of loading).
    pub(super) fn for_text(text_len: usize) -> Self {
        Tree {
            items: Vec::with_capacity(text_len / 24),
            members: Vec::with_capacity(text_len / 32),
            elements: Vec::with_capacity(text_len / 128),
            root: 0,
        }
    }

    /// Adds a scalar node and returns its index.
    pub(super) fn scalar(&mut self, scalar: Scalar) -> u32 {
        self.push(match scalar {
            Scalar::Null => Item::Null,
            Scalar::Bool(boolean) => Item::Bool(boolean),
            Scalar::Number(number) => Item::Number(number),
            Scalar::String(string) => Item::String(string),
        })
    }

    /// Adds a mapping whose entries are `pending[start..]`, taking them out of `pending`.
    pub(super) fn mapping(&mut self, pending: &mut Vec<(String, u32)>, start: usize) -> u32 {
        let run = Run {
            start: index(self.members.len()),
            len: index(pending.len() - start),
        };
        self.members.extend(pending.drain(start..));
        self.push(Item::Object(run))
    }

    /// Adds a sequence whose items are `pending[start..]`, taking them out of `pending`.
    pub(super) fn sequence(&mut self, pending: &mut Vec<u32>, start: usize) -> u32 {
        let run = Run {
            start: index(self.elements.len()),
            len: index(pending.len() - start),
        };
        self.elements.extend(pending.drain(start..));
        self.push(Item::Array(run))
    }

    /// Makes `node` the document's top node.
    pub(super) fn set_root(&mut self, node: u32) {
        self.root = node;
    }

    /// The document's top node.
    pub(crate) fn root(&self) -> NodeRef<'_> {
        self.node(self.root)
    }

    fn node(&self, index: u32) -> NodeRef<'_> {
        NodeRef {
            tree: self,
            item: &self.items[index as usize],
        }
    }

    fn push(&mut self, item: Item) -> u32 {
        self.items.push(item);
        index(self.items.len() - 1)
    }
}

/// One node of a [`Tree`]: what the schema check and serde walk. Copying it is free. It holds
/// the node itself, not its index, so that reading a node is one step, as with a `&Value`.
#[derive(Clone, Copy)]
pub(crate) struct NodeRef<'a> {
    tree: &'a Tree,
    item: &'a Item,
}

impl fmt::Debug for NodeRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.to_value(), f)
    }
}

impl<'a> NodeRef<'a> {
    fn item(self) -> &'a Item {
        self.item
    }

    fn at(self, index: u32) -> NodeRef<'a> {
        self.tree.node(index)
    }

    /// The node as a `serde_json::Value`, built now: for the cold paths that need one.
    pub(crate) fn to_value(self) -> Value {
        match self.item() {
            Item::Null => Value::Null,
            Item::Bool(boolean) => Value::Bool(*boolean),
            Item::Number(number) => Value::Number(number.clone()),
            Item::String(string) => Value::String(string.clone()),
            Item::Array(run) => Value::Array(
                self.tree.elements[run.range()]
                    .iter()
                    .map(|&item| self.at(item).to_value())
                    .collect(),
            ),
            Item::Object(run) => Value::Object(
                self.tree.members[run.range()]
                    .iter()
                    .map(|(key, item)| (key.clone(), self.at(*item).to_value()))
                    .collect::<Map<String, Value>>(),
            ),
        }
    }

    fn unexpected(self) -> de::Unexpected<'a> {
        match self.item() {
            Item::Null => de::Unexpected::Unit,
            Item::Bool(boolean) => de::Unexpected::Bool(*boolean),
            Item::Number(number) => number_unexpected(number),
            Item::String(string) => de::Unexpected::Str(string),
            Item::Array(_) => de::Unexpected::Seq,
            Item::Object(_) => de::Unexpected::Map,
        }
    }
}

/// How serde_json's `Value` names a number in an error.
fn number_unexpected(number: &Number) -> de::Unexpected<'_> {
    if let Some(unsigned) = number.as_u64() {
        de::Unexpected::Unsigned(unsigned)
    } else if let Some(signed) = number.as_i64() {
        de::Unexpected::Signed(signed)
    } else {
        de::Unexpected::Float(number.as_f64().unwrap_or_default())
    }
}

// ---- The schema check's view: jsonschema's representation trait. ----

impl Json for Tree {
    type Node<'a> = NodeRef<'a>;
    type PreparedKey = Box<str>;
    /// Property names for `propertyNames` are written into a one-node tree whose string is
    /// reused, so checking names allocates only while the longest name grows.
    type StringBuffer = Tree;

    /// Lookups scan a mapping's run, so one pass over the members beats more than a few of them.
    const KEYS_PER_LOOKUP: usize = 2;
    /// An alias shares a complete node; no node contains itself.
    const ACYCLIC: bool = true;

    fn prepare_key(key: &str) -> Box<str> {
        key.into()
    }

    fn with_string_node<T>(buffer: &mut Tree, string: &str, f: impl FnOnce(NodeRef<'_>) -> T) -> T {
        match buffer.items.first_mut() {
            Some(Item::String(held)) => {
                held.clear();
                held.push_str(string);
            }
            _ => {
                buffer.items.clear();
                buffer.items.push(Item::String(string.to_owned()));
            }
        }
        f(buffer.node(0))
    }
}

impl<'a> jsonschema::json::Node<'a, Tree> for NodeRef<'a> {
    type Object = ObjectRef<'a>;
    type Array = ArrayRef<'a>;
    type Number = &'a Number;

    fn as_object(&self) -> Option<ObjectRef<'a>> {
        match self.item() {
            Item::Object(run) => Some(ObjectRef {
                tree: self.tree,
                run: *run,
            }),
            _ => None,
        }
    }

    fn as_array(&self) -> Option<ArrayRef<'a>> {
        match self.item() {
            Item::Array(run) => Some(ArrayRef {
                tree: self.tree,
                run: *run,
            }),
            _ => None,
        }
    }

    fn as_string(&self) -> Option<Cow<'a, str>> {
        match self.item() {
            Item::String(string) => Some(Cow::Borrowed(string)),
            _ => None,
        }
    }

    fn as_number(&self) -> Option<&'a Number> {
        match self.item() {
            Item::Number(number) => Some(number),
            _ => None,
        }
    }

    fn as_boolean(&self) -> Option<bool> {
        match self.item() {
            Item::Bool(boolean) => Some(*boolean),
            _ => None,
        }
    }

    fn is_null(&self) -> bool {
        matches!(self.item(), Item::Null)
    }

    fn json_type(&self) -> JsonType {
        match self.item() {
            Item::Null => JsonType::Null,
            Item::Bool(_) => JsonType::Boolean,
            Item::Number(_) => JsonType::Number,
            Item::String(_) => JsonType::String,
            Item::Array(_) => JsonType::Array,
            Item::Object(_) => JsonType::Object,
        }
    }

    /// `enum` and `const` compare strings, so a string is compared in place instead of being
    /// copied into a `Value` first; anything else takes the general path.
    fn equals_value(&self, expected: &Value) -> bool {
        match (self.item(), expected) {
            (Item::String(string), Value::String(other)) => string == other,
            (Item::String(_), _) => false,
            _ => cmp::equal(&self.to_value(), expected),
        }
    }

    fn to_value(&self) -> Cow<'a, Value> {
        Cow::Owned(NodeRef::to_value(*self))
    }

    /// The node's address: an alias shares its node, which is then the same node.
    fn identity(&self) -> Option<NodeIdentity> {
        Some(NodeIdentity::new(
            std::ptr::from_ref::<Item>(self.item) as usize
        ))
    }

    /// Bounds on the bytes decide most cases without counting characters, as serde_json's
    /// representation does (a character is one to four bytes).
    fn string_length_within(&self, min: u64, max: u64) -> Option<bool> {
        let Item::String(string) = self.item else {
            return None;
        };
        let bytes = string.len() as u64;
        let fewest = bytes.div_ceil(4);
        if bytes < min || fewest > max {
            return Some(false);
        }
        if min <= fewest && bytes <= max {
            return Some(true);
        }
        Some((min..=max).contains(&(string.chars().count() as u64)))
    }
}

/// A mapping node, as jsonschema reads it.
#[derive(Clone, Copy)]
pub(crate) struct ObjectRef<'a> {
    tree: &'a Tree,
    run: Run,
}

impl<'a> ObjectRef<'a> {
    fn entries(self) -> &'a [(String, u32)] {
        &self.tree.members[self.run.range()]
    }
}

impl<'a> Object<'a, Tree> for ObjectRef<'a> {
    type Node = NodeRef<'a>;
    type MemberName = &'a str;
    type MembersIter = Members<'a>;

    fn len(&self) -> usize {
        self.run.len as usize
    }

    fn get(&self, key: &Box<str>) -> Option<NodeRef<'a>> {
        self.entries()
            .iter()
            .find(|(name, _)| name.as_str() == &**key)
            .map(|(_, item)| self.tree.node(*item))
    }

    fn members(&self) -> Members<'a> {
        Members {
            tree: self.tree,
            entries: self.entries().iter(),
        }
    }
}

/// A mapping's entries in the order written.
pub(crate) struct Members<'a> {
    tree: &'a Tree,
    entries: std::slice::Iter<'a, (String, u32)>,
}

impl<'a> Iterator for Members<'a> {
    type Item = (&'a str, NodeRef<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        self.entries
            .next()
            .map(|(name, item)| (name.as_str(), self.tree.node(*item)))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.entries.size_hint()
    }
}

/// A sequence node, as jsonschema reads it.
#[derive(Clone, Copy)]
pub(crate) struct ArrayRef<'a> {
    tree: &'a Tree,
    run: Run,
}

impl<'a> Array<'a, Tree> for ArrayRef<'a> {
    type Node = NodeRef<'a>;
    type ElementsIter = Elements<'a>;

    fn len(&self) -> usize {
        self.run.len as usize
    }

    fn elements(&self) -> Elements<'a> {
        Elements {
            tree: self.tree,
            items: self.tree.elements[self.run.range()].iter(),
        }
    }
}

/// A sequence's items in order.
pub(crate) struct Elements<'a> {
    tree: &'a Tree,
    items: std::slice::Iter<'a, u32>,
}

impl<'a> Iterator for Elements<'a> {
    type Item = NodeRef<'a>;

    fn next(&mut self) -> Option<NodeRef<'a>> {
        self.items.next().map(|item| self.tree.node(*item))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.items.size_hint()
    }
}

// ---- serde's view: the same steps as serde_json's `impl Deserializer for &Value`. ----

impl<'de> Deserializer<'de> for NodeRef<'de> {
    type Error = serde_json::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.item() {
            Item::Null => visitor.visit_unit(),
            Item::Bool(boolean) => visitor.visit_bool(*boolean),
            Item::Number(number) => number.deserialize_any(visitor),
            Item::String(string) => visitor.visit_borrowed_str(string),
            Item::Array(run) => {
                let mut items = SeqRef {
                    tree: self.tree,
                    items: self.tree.elements[run.range()].iter(),
                };
                let value = visitor.visit_seq(&mut items)?;
                match items.items.len() {
                    0 => Ok(value),
                    _ => Err(de::Error::invalid_length(
                        run.len as usize,
                        &"fewer elements in array",
                    )),
                }
            }
            Item::Object(run) => {
                let mut entries = MapRef {
                    tree: self.tree,
                    entries: self.tree.members[run.range()].iter(),
                    value: None,
                };
                let value = visitor.visit_map(&mut entries)?;
                match entries.entries.len() {
                    0 => Ok(value),
                    _ => Err(de::Error::invalid_length(
                        run.len as usize,
                        &"fewer elements in map",
                    )),
                }
            }
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.item() {
            Item::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        match self.item() {
            Item::String(variant) => visitor.visit_enum(EnumRef {
                variant,
                value: None,
            }),
            Item::Object(run) if run.len == 1 => {
                let (variant, value) = &self.tree.members[run.start as usize];
                visitor.visit_enum(EnumRef {
                    variant,
                    value: Some(self.at(*value)),
                })
            }
            Item::Object(_) => Err(de::Error::invalid_value(
                de::Unexpected::Map,
                &"map with a single key",
            )),
            _ => Err(de::Error::invalid_type(self.unexpected(), &"string or map")),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_unit()
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct seq tuple tuple_struct map struct identifier
    }
}

/// A sequence's items, handed to serde one by one.
struct SeqRef<'de> {
    tree: &'de Tree,
    items: std::slice::Iter<'de, u32>,
}

impl<'de> de::SeqAccess<'de> for SeqRef<'de> {
    type Error = serde_json::Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Self::Error> {
        self.items
            .next()
            .map(|item| seed.deserialize(self.tree.node(*item)))
            .transpose()
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

/// A mapping's entries, handed to serde one by one.
struct MapRef<'de> {
    tree: &'de Tree,
    entries: std::slice::Iter<'de, (String, u32)>,
    /// The value of the key just handed over.
    value: Option<u32>,
}

impl<'de> de::MapAccess<'de> for MapRef<'de> {
    type Error = serde_json::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Self::Error> {
        match self.entries.next() {
            Some((key, value)) => {
                self.value = Some(*value);
                let key: de::value::BorrowedStrDeserializer<'de, serde_json::Error> =
                    de::value::BorrowedStrDeserializer::new(key);
                seed.deserialize(key).map(Some)
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, Self::Error> {
        match self.value.take() {
            Some(value) => seed.deserialize(self.tree.node(value)),
            None => Err(de::Error::custom("value is missing")),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

/// An enum written as its variant's name, or as a one-key mapping from the name to its content.
struct EnumRef<'de> {
    variant: &'de str,
    value: Option<NodeRef<'de>>,
}

impl<'de> de::EnumAccess<'de> for EnumRef<'de> {
    type Error = serde_json::Error;
    type Variant = VariantRef<'de>;

    fn variant_seed<V: DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, VariantRef<'de>), Self::Error> {
        let variant: de::value::BorrowedStrDeserializer<'de, serde_json::Error> =
            de::value::BorrowedStrDeserializer::new(self.variant);
        let variant = seed.deserialize(variant)?;
        Ok((variant, VariantRef { value: self.value }))
    }
}

/// The content of an enum's variant, if it has any.
struct VariantRef<'de> {
    value: Option<NodeRef<'de>>,
}

impl<'de> de::VariantAccess<'de> for VariantRef<'de> {
    type Error = serde_json::Error;

    fn unit_variant(self) -> Result<(), Self::Error> {
        match self.value {
            Some(value) => de::Deserialize::deserialize(value),
            None => Ok(()),
        }
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(
        self,
        seed: T,
    ) -> Result<T::Value, Self::Error> {
        match self.value {
            Some(value) => seed.deserialize(value),
            None => Err(de::Error::invalid_type(
                de::Unexpected::UnitVariant,
                &"newtype variant",
            )),
        }
    }

    fn tuple_variant<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        match self.value {
            Some(value) if matches!(value.item(), Item::Array(_)) => value.deserialize_any(visitor),
            Some(value) => Err(de::Error::invalid_type(
                value.unexpected(),
                &"tuple variant",
            )),
            None => Err(de::Error::invalid_type(
                de::Unexpected::UnitVariant,
                &"tuple variant",
            )),
        }
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        match self.value {
            Some(value) if matches!(value.item(), Item::Object(_)) => {
                value.deserialize_any(visitor)
            }
            Some(value) => Err(de::Error::invalid_type(
                value.unexpected(),
                &"struct variant",
            )),
            None => Err(de::Error::invalid_type(
                de::Unexpected::UnitVariant,
                &"struct variant",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use jsonschema::json::{Node, conformance};
    use serde::Deserialize;
    use serde_json::json;

    use crate::definition::document::parse;

    /// Reads `value` through the YAML reader: JSON text is YAML too (flow style).
    fn read(value: &Value) -> crate::definition::document::Document {
        parse(&value.to_string()).expect("JSON text reads as YAML")
    }

    use super::*;

    #[test]
    fn meets_the_representation_contract_jsonschema_relies_on() {
        let document = read(&conformance::document());
        conformance::assert_conformance::<Tree>(&document.root());
    }

    #[test]
    fn builds_the_same_value_as_serde_json_reads() {
        let values = [
            json!(null),
            json!("text"),
            json!([]),
            json!({}),
            json!({"b": [1, -2, 2.5, true, null, "x"], "a": {"z": {}, "y": [[]]}, "é": "ü"}),
        ];
        for value in values {
            assert_eq!(read(&value).root().to_value(), value);
        }
    }

    #[test]
    fn an_empty_document_is_null() {
        let document = parse("# nothing here\n").unwrap();
        assert!(document.root().is_null());
        assert_eq!(document.value(), &Value::Null);
    }

    #[test]
    fn an_alias_shares_the_anchored_node() {
        let document = parse("base: &b\n  x: [1, 2]\ncopy: *b\n").unwrap();
        let root = document.root().as_object().unwrap();
        let base = root.get(&Tree::prepare_key("base")).unwrap();
        let copy = root.get(&Tree::prepare_key("copy")).unwrap();
        assert_eq!(base.identity(), copy.identity());
        assert_eq!(copy.to_value(), json!({"x": [1, 2]}));
    }

    #[derive(Debug, PartialEq, Deserialize)]
    #[serde(rename_all = "snake_case", deny_unknown_fields)]
    enum Shape {
        Unit,
        Newtype(u8),
        Tuple(u8, String),
        Struct { a: Option<String> },
    }

    #[derive(Debug, PartialEq, Deserialize)]
    struct Sample {
        shapes: Vec<Shape>,
        #[serde(default)]
        maybe: Option<i64>,
        map: indexmap::IndexMap<String, f64>,
        #[serde(flatten)]
        rest: indexmap::IndexMap<String, Value>,
    }

    /// The tree reads as serde_json's `&Value` does: the same content, or the same error.
    fn same_as_serde_json<T>(value: &Value)
    where
        T: for<'de> Deserialize<'de> + PartialEq + fmt::Debug,
    {
        let document = read(value);
        let from_tree = T::deserialize(document.root()).map_err(|error| error.to_string());
        let from_value = T::deserialize(value).map_err(|error| error.to_string());
        assert_eq!(from_tree, from_value, "{value}");
    }

    #[test]
    fn deserializes_as_serde_json_does() {
        let good = json!({
            "shapes": ["unit", {"newtype": 3}, {"tuple": [1, "x"]}, {"struct": {"a": null}},
                       {"struct": {"a": "y"}}],
            "maybe": null,
            "map": {"z": 1, "a": 2.5},
            "extra": {"k": [true]}
        });
        same_as_serde_json::<Sample>(&good);
        let sample = Sample::deserialize(read(&good).root()).expect("reads");
        assert_eq!(sample.shapes.len(), 5);
        assert_eq!(sample.rest.keys().collect::<Vec<_>>(), ["extra"]);
        for bad in [
            json!({"shapes": ["nothing"], "map": {}}),
            json!({"shapes": [{"unit": 1, "newtype": 2}], "map": {}}),
            json!({"shapes": [{"newtype": "3"}], "map": {}}),
            json!({"shapes": [{"tuple": [1]}], "map": {}}),
            json!({"shapes": [{"struct": {"b": 1}}], "map": {}}),
            json!({"shapes": [7], "map": {}}),
            json!({"shapes": [], "map": {"a": "1"}}),
            json!({"shapes": [], "maybe": 1.5, "map": {}}),
            json!({"map": {}}),
            json!([]),
            json!("text"),
        ] {
            same_as_serde_json::<Sample>(&bad);
        }
        same_as_serde_json::<(u8, String)>(&json!([1, "x", 3]));
        same_as_serde_json::<Value>(&good);
    }
}
