// Package config loads and validates server.toml.
//
// Every setting has a documented default (see the Default* constants), so a
// configuration only states what differs. Unknown keys and bad values are
// errors that name the file, the line where it can be found, and the key;
// all problems are collected and reported together, not just the first.
// Relative paths are resolved against the configuration file's folder, so a
// configuration works whatever the working directory.
//
// A running server reloads its configuration live; FixedChanges lists the
// settings that only a restart applies, and a reload touching them is
// refused whole.
package config
