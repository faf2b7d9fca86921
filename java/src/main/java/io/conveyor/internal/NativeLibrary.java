package io.conveyor.internal;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;

/**
 * Loads libconveyor.so and libconveyor_jni.so once per class loader. Internal.
 *
 * <p>The jar carries both under {@code native/linux-x86_64/}; they are copied into a fresh
 * temporary directory (deleted at JVM exit) and loaded with {@link System#load}, so no
 * {@code -Djava.library.path} is needed. The system property {@code conveyor.native.dir}
 * names a directory holding both libraries to load instead (development builds).
 *
 * <p>Thread-safe.
 */
public final class NativeLibrary {
  private static final String[] LIBS = {"libconveyor.so", "libconveyor_jni.so"};
  private static boolean loaded;

  private NativeLibrary() {}

  /** Loads the libraries if not done yet. @throws UnsatisfiedLinkError if they cannot be loaded */
  public static synchronized void load() {
    if (loaded) return;
    String dir = System.getProperty("conveyor.native.dir");
    if (dir != null && !dir.isEmpty()) {
      for (String lib : LIBS) System.load(Path.of(dir, lib).toAbsolutePath().toString());
      loaded = true;
      return;
    }
    String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
    String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
    if (!os.contains("linux") || !(arch.equals("amd64") || arch.equals("x86_64"))) {
      throw new UnsatisfiedLinkError(
          "conveyor: this jar carries native libraries for linux-x86_64 only, not " + os + "-" + arch);
    }
    try {
      Path tmp = Files.createTempDirectory("conveyor-native-");
      tmp.toFile().deleteOnExit();
      for (String lib : LIBS) {
        String resource = "/native/linux-x86_64/" + lib;
        try (InputStream in = NativeLibrary.class.getResourceAsStream(resource)) {
          if (in == null) {
            throw new UnsatisfiedLinkError("conveyor: " + resource + " is missing from the jar");
          }
          Path out = tmp.resolve(lib);
          Files.copy(in, out, StandardCopyOption.REPLACE_EXISTING);
          out.toFile().deleteOnExit();
        }
      }
      // libconveyor.so first: libconveyor_jni.so needs it (its rpath is $ORIGIN as well).
      for (String lib : LIBS) System.load(tmp.resolve(lib).toString());
      loaded = true;
    } catch (IOException e) {
      UnsatisfiedLinkError err = new UnsatisfiedLinkError("conveyor: cannot extract native libraries: " + e);
      err.initCause(e);
      throw err;
    }
  }
}
