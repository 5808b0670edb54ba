// Package all builds the registry of every simulated device kind bedgate
// ships, from an explicit list: adding a simulator means adding it here.
package all
