// Package registry is the one name-keyed registry that drivers and
// simulators share: drivers.Registry and simulators.Registry are both a
// [Registry] of their own entry type. Registries are built explicitly
// (drivers/all, simulators/all); there is no global registration.
package registry
