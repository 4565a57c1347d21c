package service

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/sessiond/sessiond/internal/kclient"
	"github.com/sessiond/sessiond/internal/kclient/kafkatest"
	"golang.org/x/net/html"
)

// The status page, read as HTML: readiness, the owned partitions, the
// latest dead letters with their reason — and never a record's value.
func TestStatusPage(t *testing.T) {
	brokers := kafkatest.Embedded(t)
	cfg := testConfig(t, brokers)
	inputs := cfg.Consumer.InputTopics()
	kafkatest.CreateTopics(t, brokers, 2, append(inputs[:], cfg.Kafka.Topic)...)
	const secret = "shopper@example.com"
	w := kclient.PlainConn(brokers).Writer(cfg.Consumer.ActionTopic, &kafka.Murmur2Balancer{})
	defer w.Close()
	poison := kafka.Message{Key: []byte("v1"), Value: []byte(`{"email":"` + secret + `"}`)}
	if err := kclient.Write(context.Background(), w, []kafka.Message{poison}, kclient.DefaultRetryPolicy(), nil); err != nil {
		t.Fatal(err)
	}
	svc, err := New(cfg, quiet())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addrc := make(chan net.Addr, 1)
	go svc.Run(ctx, func(a net.Addr) { addrc <- a })
	url := "http://" + (<-addrc).String() + "/"
	var page string
	deadline := time.Now().Add(time.Minute)
	for {
		page = get(t, url)
		if strings.Contains(page, `class="ok">ready`) && strings.Contains(page, "decode") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the page never showed a ready member with the dead letter:\n%s", page)
		}
		time.Sleep(100 * time.Millisecond)
	}
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatalf("the page is not HTML: %v", err)
	}
	rows := tableRows(doc, "partitions")
	if len(rows) != 3 || !strings.Contains(rows[1], "consuming") || !strings.Contains(rows[2], "consuming") {
		t.Errorf("partitions table %q: want a header and partitions 0 and 1 consuming", rows)
	}
	dead := tableRows(doc, "dead-letters")
	if len(dead) != 2 || !strings.Contains(dead[1], cfg.Consumer.ActionTopic) || !strings.Contains(dead[1], "JSON?") {
		t.Errorf("dead-letters table %q: want the rejected record's place, reason and hint", dead)
	}
	if strings.Contains(page, secret) {
		t.Error("the page shows a record's value")
	}
	if !strings.Contains(page, `http-equiv="refresh"`) || strings.Contains(page, "<script") {
		t.Error("the page must refresh itself without JavaScript")
	}
	screenshot(t, url)
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// tableRows returns the text of each row of the table with the given id.
func tableRows(n *html.Node, id string) []string {
	var table *html.Node
	var find func(*html.Node)
	find = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "table" {
			for _, a := range n.Attr {
				if a.Key == "id" && a.Val == id {
					table = n
				}
			}
		}
		for c := n.FirstChild; c != nil && table == nil; c = c.NextSibling {
			find(c)
		}
	}
	find(n)
	var rows []string
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "tr" {
			rows = append(rows, text(n))
			return
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	if table != nil {
		walk(table)
	}
	return rows
}

func text(n *html.Node) string {
	if n.Type == html.TextNode {
		return n.Data
	}
	var b strings.Builder
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		b.WriteString(text(c) + " ")
	}
	return b.String()
}

// screenshot renders the page in headless Chromium when it is installed
// (Debian's chromium package) and keeps the PNG in SESSIOND_SCREENSHOT_DIR
// (default: the test's temporary directory).
func screenshot(t *testing.T, url string) {
	bin, err := exec.LookPath("chromium")
	if err != nil {
		t.Log("no chromium: screenshot skipped")
		return
	}
	dir := os.Getenv("SESSIOND_SCREENSHOT_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	png := filepath.Join(dir, "status-page.png")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
		"--window-size=1100,900", "--screenshot="+png, url).CombinedOutput()
	if err != nil {
		t.Fatalf("chromium: %v\n%s", err, out)
	}
	if st, err := os.Stat(png); err != nil || st.Size() == 0 {
		t.Fatalf("no screenshot at %s: %v", png, err)
	}
	t.Logf("screenshot: %s", png)
}
