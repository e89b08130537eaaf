// Package archtest holds the test that keeps the dependency direction of
// DESIGN.md: cmd → handlers → provider → storage, config read only by cmd,
// templates and static as leaves.
package archtest
