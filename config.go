// Config owns the typed configuration: Config, ProgramConfig, every default in
// one place, every check at load time with file:line, and diff for reload.
package main

// LogPolicy says when and how a log file rotates.
type LogPolicy struct {
	MaxSize  int64 // bytes before rotation; 0 never rotates (<inf>)
	Backups  int   // rotated files kept; -1 keeps all (<inf>)
	Compress bool  // gzip backups .2 and older
}
