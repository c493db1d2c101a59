pub mod form;
pub mod live;
pub mod shell;
pub mod tabs;
