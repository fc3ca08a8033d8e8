package kvnode

import (
	"context"
	"errors"
	"fmt"

	tikverr "github.com/tikv/client-go/v2/error"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// tikvBusy are client-go's errors that mean "the cluster cannot serve this now";
// client-go returns them once its own backoff for them ran out.
var tikvBusy = []error{
	tikverr.ErrTiKVServerTimeout,
	tikverr.ErrTiKVServerBusy,
	tikverr.ErrTiKVStaleCommand,
	tikverr.ErrTiKVMaxTimestampNotSynced,
	tikverr.ErrTiKVDiskFull,
	tikverr.ErrRegionUnavailable,
	tikverr.ErrRegionDataNotReady,
	tikverr.ErrRegionNotInitialized,
	tikverr.ErrRegionRecoveryInProgress,
	tikverr.ErrRegionFlashbackInProgress,
	tikverr.ErrIsWitness,
	tikverr.ErrResolveLockTimeout,
	context.DeadlineExceeded,
}

// isTiKVConflict reports whether err means that the transaction lost a race and
// may succeed when run again.
func isTiKVConflict(err error) bool {
	var latch *tikverr.ErrWriteConflictInLatch
	var retryable *tikverr.ErrRetryable
	return tikverr.IsErrWriteConflict(err) || errors.As(err, &latch) ||
		errors.As(err, &retryable)
}

// mapTiKVErr turns client-go errors into the Store's: missing keys into ErrNotFound,
// "try later" into ErrUnavailable; anything else keeps its cause behind a prefix.
func mapTiKVErr(err error) error {
	switch {
	case err == nil:
		return nil
	case tikverr.IsErrNotFound(err):
		return ErrNotFound
	case isTiKVUnavailable(err):
		return fmt.Errorf("%w: tikv: %v", ErrUnavailable, err)
	case tikverr.IsErrorUndetermined(err):
		return fmt.Errorf("kvnode: tikv: commit outcome unknown: %w", err)
	}
	return fmt.Errorf("kvnode: tikv: %w", err)
}

func isTiKVUnavailable(err error) bool {
	for _, target := range tikvBusy {
		if errors.Is(err, target) {
			return true
		}
	}
	var pd *tikverr.ErrPDServerTimeout
	if errors.As(err, &pd) {
		return true
	}
	s, ok := status.FromError(err)
	return ok && (s.Code() == codes.Unavailable || s.Code() == codes.DeadlineExceeded)
}
