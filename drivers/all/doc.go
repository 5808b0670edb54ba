// Package all lists every driver bedgate ships, in one explicit registry.
package all
