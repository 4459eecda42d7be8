package stream

import (
	"github.com/petrel-io/petrel/core/jsapi"
	"github.com/petrel-io/petrel/filestore"
)

// Limits are the store limits a configuration asks for (its -1s and 0s are "unlimited").
func Limits(cfg jsapi.StreamConfig) filestore.Limits {
	l := filestore.Limits{
		MaxMsgs:                positive(cfg.MaxMsgs),
		MaxBytes:               positive(cfg.MaxBytes),
		MaxAge:                 cfg.MaxAge,
		MaxMsgsPerSubject:      positive(cfg.MaxMsgsPerSubject),
		DiscardNewPerSubject:   cfg.DiscardNewPerSubject,
		SubjectDeleteMarkerTTL: cfg.SubjectDeleteMarkerTTL,
	}
	if cfg.Discard == jsapi.DiscardNew {
		l.Discard = filestore.DiscardNew
	}
	return l
}

// StoreConfig is the filestore configuration for cfg (Dir and Executor are the caller's).
func StoreConfig(cfg jsapi.StreamConfig) filestore.Config {
	c := filestore.Config{Limits: Limits(cfg)}
	if cfg.Compression == jsapi.S2Compression {
		c.Compression = filestore.CompressionS2
	}
	if cfg.PersistMode == jsapi.PersistAsync {
		c.Sync = filestore.SyncEvery
	}
	return c
}

func positive(v int64) uint64 {
	if v <= 0 {
		return 0
	}
	return uint64(v)
}
