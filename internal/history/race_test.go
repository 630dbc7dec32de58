//go:build race

package history

// raceDetector is set when the tests run with the race detector, ten
// times slower: the property test then generates less history.
const raceDetector = true
