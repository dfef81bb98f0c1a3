package main

import (
	"errors"
	"os"

	"github.com/amber-archiver/amber/warc"
)

// workerID is the worker id a run puts in its WARC file names: the one
// given with --worker-id (or worker_id in a job file), which must be valid
// as it is, or HOST-PID.
func workerID(given string) (string, error) {
	if given == "" {
		host, _ := os.Hostname()
		return warc.DefaultWorkerID(host, os.Getpid()), nil
	}
	var we *warc.WorkerIDError
	if err := warc.CheckWorkerID(given); errors.As(err, &we) {
		return "", usageError("--worker-id %q: %s", given, we.Reason)
	} else if err != nil {
		return "", err
	}
	return given, nil
}
