import type { Dispatcher } from 'undici'

/**
 * An undici interceptor that reports every attempt's method, path and final status (0 when no response
 * came) to `onAttempt`; composed inside the retry interceptor, it sees each retry as its own dispatch.
 */
export function countAttempts(
  onAttempt: (method: string | undefined, path: string | undefined, status: number) => void,
): Dispatcher.DispatcherComposeInterceptor {
  return (dispatch) => (opts, handler) => {
    let counted = false
    const count = (status: number) => {
      if (counted) return
      counted = true
      onAttempt(opts.method, opts.path, status)
    }
    const counting: Dispatcher.DispatchHandler = {
      onRequestStart: (controller, context) => handler.onRequestStart?.(controller, context),
      onRequestUpgrade: (controller, statusCode, headers, socket) =>
        handler.onRequestUpgrade?.(controller, statusCode, headers, socket),
      onResponseStart: (controller, statusCode, headers, statusMessage) => {
        // Interim 1xx answers precede the final one.
        if (statusCode >= 200) count(statusCode)
        return handler.onResponseStart?.(controller, statusCode, headers, statusMessage)
      },
      onResponseData: (controller, chunk) => handler.onResponseData?.(controller, chunk),
      onResponseEnd: (controller, trailers) => handler.onResponseEnd?.(controller, trailers),
      onResponseError: (controller, err) => {
        count(0)
        handler.onResponseError?.(controller, err)
      },
    }
    return dispatch(opts, counting)
  }
}
