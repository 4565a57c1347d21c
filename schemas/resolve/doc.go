// Package resolve reads Avro data written with one schema (the writer's) as
// if it had been written with another (the reader's, sessiond's own), by the
// schema resolution rules of the Avro specification:
//
//   - record fields are matched by name, or by the reader field's aliases,
//     whatever their order; a reader field the writer lacks takes the
//     reader's default (no default: the schemas are incompatible); a writer
//     field the reader lacks is dropped;
//   - int promotes to long, float and double, long to float and double,
//     float to double; string and bytes read as each other;
//   - an enum symbol the reader does not have becomes the reader's default
//     symbol (no default: that datum is an error);
//   - unions resolve by branch: the writer's branch is matched to the first
//     reader branch of the same type (then to the first it promotes to); a
//     non-union on one side is matched against the other's branches;
//   - named types (record, enum, fixed) match by unqualified name or by the
//     reader's aliases; the top-level record's name is not compared, since
//     producers name their event records as they please.
//
// Compile turns a (writer, reader) pair into a Plan once; Plan.Apply then
// converts each datum goavro decoded with the writer's schema into the
// native form goavro would have produced for the reader's schema. Apply
// works in place on goavro's freshly decoded maps and slices and does no
// I/O: it is pure, like the reducer.
//
// Errors name the field (a dotted path from the top-level record) and the
// two types, e.g. "field cart.items.quantity: writer type string cannot be
// read as int".
package resolve
