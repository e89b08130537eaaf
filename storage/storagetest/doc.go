// Package storagetest is the storage conformance suite: the same cases run
// against every backend (SQLite always, PostgreSQL when
// AJRLY_TEST_POSTGRES_DSN is set), and helpers that give other packages'
// tests a real, migrated store.
package storagetest
