package kclient

import (
	"errors"
	"fmt"
	"os"
	"strings"
)

// EnvSASLPassword is the environment variable that may carry the SASL
// password: a password is never a flag value (it would show in ps), only a
// variable or a file.
const EnvSASLPassword = "SESSIOND_KAFKA_SASL_PASSWORD"

// LoadSecrets fills the SASL password from passwordFile or, without one,
// from SESSIOND_KAFKA_SASL_PASSWORD (lookup reads the environment). Its
// errors are *config.FieldError for "SASL.Password"; they never quote the
// password.
func (c *ConnConfig) LoadSecrets(passwordFile string, lookup func(string) (string, bool)) error {
	env, fromEnv := lookup(EnvSASLPassword)
	switch {
	case passwordFile != "" && fromEnv:
		return fieldErr("SASL.Password", fmt.Errorf("the SASL password is given twice: in a file and in %s", EnvSASLPassword))
	case passwordFile != "":
		b, err := os.ReadFile(passwordFile)
		if err != nil {
			return fieldErr("SASL.Password", fmt.Errorf("read the password file: %w", err))
		}
		c.SASL.Password = strings.TrimRight(string(b), "\r\n")
		if c.SASL.Password == "" {
			return fieldErr("SASL.Password", errors.New("the password file is empty"))
		}
	case fromEnv:
		c.SASL.Password = env
	}
	return nil
}
