package jetstream

import (
	"time"

	"github.com/petrel-io/petrel/core/jsapi"
)

// checkStream validates a stream configuration and fills its defaults.
// (A first version: core/jsapi's full check replaces it.)
func (a *account) checkStream(cfg *jsapi.StreamConfig) *jsapi.Error {
	if len(cfg.Subjects) == 0 && cfg.Mirror == nil {
		cfg.Subjects = []string{cfg.Name}
	}
	setDefault(&cfg.Retention, jsapi.LimitsRetention)
	setDefault(&cfg.Discard, jsapi.DiscardOld)
	setDefault(&cfg.Storage, jsapi.FileStorage)
	setDefault(&cfg.Compression, jsapi.NoCompression)
	for _, v := range []*int64{&cfg.MaxMsgs, &cfg.MaxBytes, &cfg.MaxMsgsPerSubject} {
		if *v == 0 {
			*v = -1
		}
	}
	if cfg.MaxConsumers == 0 {
		cfg.MaxConsumers = -1
	}
	if cfg.MaxMsgSize == 0 {
		cfg.MaxMsgSize = -1
	}
	if cfg.Duplicates == 0 && cfg.Mirror == nil {
		cfg.Duplicates = 2 * time.Minute
		if cfg.MaxAge > 0 && cfg.MaxAge < cfg.Duplicates {
			cfg.Duplicates = cfg.MaxAge
		}
	}
	if cfg.Replicas == 0 {
		cfg.Replicas = 1
	}
	if cfg.Replicas > 1 {
		return jsapi.E(jsapi.ErrReplicasNotSupported)
	}
	return nil
}

func setDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}

// checkStreamUpdate holds the rules on what an update may change.
func checkStreamUpdate(old, cfg jsapi.StreamConfig) *jsapi.Error {
	switch {
	case old.Storage != cfg.Storage:
		return jsapi.NewError(jsapi.ErrStreamInvalidConfig, "stream configuration update can not change storage type")
	case old.Retention != cfg.Retention:
		return jsapi.NewError(jsapi.ErrStreamInvalidConfig, "stream configuration update can not change retention policy")
	case old.Sealed && !cfg.Sealed:
		return jsapi.NewError(jsapi.ErrStreamInvalidConfig, "stream configuration update can not unseal a sealed stream")
	}
	return nil
}
