package consumer

import "github.com/sessiond/sessiond/reducer"

// numKinds is the number of input streams a task merges: one lane, one
// source and one committed offset per reducer.Kind.
const numKinds = reducer.NumKinds
