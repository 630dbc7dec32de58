package ospfapitest

import (
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/ospf-operator/ospf-operator/internal/lsdb"
)

// Fixture is the path of the NYC Mesh LSDB of testdata/ (snapshot format),
// found from this file so that tests of any package can load it.
var Fixture = func() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "testdata", "nycmesh-lsdb-2023-04-29.json")
}()

// NYC returns the LSAs of Fixture (LoadSnapshotFile with EncodeOptions{}),
// or fails the test. Each call loads them anew, so the caller may change
// them.
func NYC(t testing.TB) []AreaLSA {
	t.Helper()
	lsas, err := LoadSnapshotFile(Fixture, EncodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return lsas
}

// Start returns a running Server for cfg and lsas (NewServer), closed when
// the test ends, or fails the test.
func Start(t testing.TB, cfg Config, lsas []AreaLSA) *Server {
	t.Helper()
	srv, err := NewServer(cfg, lsas)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv
}

// NYCDB returns a database loaded with the NYC LSDB cloned copies times
// (Clone; 1 is the fixture itself), or fails the test.
func NYCDB(t testing.TB, copies int) *lsdb.DB {
	t.Helper()
	lsas := NYC(t)
	if copies > 1 {
		var err error
		if lsas, err = Clone(lsas, copies); err != nil {
			t.Fatal(err)
		}
	}
	db := lsdb.New(lsdb.Config{})
	if err := LoadDB(db, lsas, time.Now()); err != nil {
		t.Fatal(err)
	}
	return db
}
