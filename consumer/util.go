package consumer

import (
	"fmt"

	"github.com/cenkalti/backoff/v4"
)

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }

func backoffPermanent(err error) error { return backoff.Permanent(err) }
